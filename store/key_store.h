// KeyStore: the node's key hierarchy below the master key, in its own RocksDB
// (data/keys), separate from the records so that no backup of the records
// ever contains a data key.
//
//   master key (key file or Argon2id passphrase; see master_key.h)
//     └─ KEKs: random 32-byte keys, versioned, each sealed under the master key
//          └─ DEKs: one per subject and one per case, random 32 bytes,
//             wrapped by the active KEK (XChaCha20-Poly1305)
//   node hash key: random 32 bytes sealed under the master key; keys the
//   BLAKE2b hash that turns a pseudonym into a record-key handle
//
// Crypto-shredding: Shred(ref) deletes a DEK (synced). Every record sealed
// under it, in the live store and in any backup or checkpoint taken before,
// can never be opened again: backups hold records, never keys.
//
// Rotation: RotateKek() adds KEK n+1, makes it active, re-wraps every DEK in
// synced batches, then deletes KEK n. Each DEK names its KEK, and a KEK is
// deleted only when no DEK needs it, so a crash at any step leaves every DEK
// openable; Open() finishes an interrupted rotation.
//
// Byte formats (keys of the RocksDB, values):
//   "format"                → "1"
//   "kek/" u32be id         → sealed file (purpose "kek") of the 32-byte KEK
//   "kek-active"            → u32be id
//   "node-hash-key"         → sealed file (purpose "node-hash-key")
//   "counters"              → sealed file (purpose "counters") of the counters:
//                             u32be n, then n × (u32be name length, name, u64be value)
//   "dek/" kind u8 id[32]   → kek_id u32be | nonce[24] | XChaCha20-Poly1305(DEK)
//                             AD = "casenode/dek/v1" | kind | id | kek_id
//
// Thread-safe. Unwrapped DEKs are cached in one locked, guarded allocation.
// Once Shred(ref) has returned, Get(ref) is NotFound (SHREDDED) and
// GetOrCreate(ref) makes a new key, whatever ran concurrently with it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "keys/data_key.h"
#include "keys/master_key.h"
#include "keys/secret.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace casenode::store {


struct KeyStoreOptions {
  // How many data keys the key store keeps unwrapped in memory (locked,
  // guarded) at most; 32 bytes each. Beyond it, a miss evicts one entry.
  size_t cache_capacity = size_t{1} << 16;
};

class KeyStore {
 public:
  static constexpr int kFormatVersion = 1;

  // Opens or creates the key store in `dir`. PermissionDenied with reason
  // WRONG_MASTER_KEY if `master` does not open its KEKs; FailedPrecondition
  // with reason NEWER_FORMAT for a store written by a newer casenode.
  // The key store keeps `master` to seal new KEKs on rotation.
  // InvalidArgument if options.cache_capacity is 0.
  // Opens an existing key store without writing anything (no WAL replay, no
  // finished rotation): checks the format and the master key and reads the
  // counters, for `casenode --check-config`. NotFound if there is none.
  // Only the const accessors may be used on it.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KeyStore>> OpenReadOnly(const std::string& dir, keys::MasterKey master);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KeyStore>> Open(const std::string& dir, keys::MasterKey master,
                                                        KeyStoreOptions options = {});
  ~KeyStore();

  // The node-local keyed hash (BLAKE2b-256) of a pseudonym: what record keys
  // use instead of the pseudonym, so a copied store reveals neither.
  std::array<uint8_t, 32> SubjectHandle(std::span<const uint8_t> pseudonym) const;

  // Copies the DEK for `ref` into *out, creating it (synced) on first use.
  [[nodiscard]] absl::Status GetOrCreate(const keys::DataKeyRef& ref, keys::DataKey* out);
  // Copies an existing DEK into *out. NotFound with reason SHREDDED if it was
  // shredded (or never existed: the two are the same to a reader).
  [[nodiscard]] absl::Status Get(const keys::DataKeyRef& ref, keys::DataKey* out);
  // Deletes the DEK for good (synced, and compacted out of the key store's
  // files). Idempotent.
  [[nodiscard]] absl::Status Shred(const keys::DataKeyRef& ref);

  // Test hook for RotateKek: called after each durable step (1: new KEK
  // written, 2: new KEK active, 3: first batch re-wrapped, 4: old KEK deleted).
  using RotationHook = std::function<void(int step)>;
  // Makes a new KEK and re-wraps every DEK under it; returns the new KEK id.
  [[nodiscard]] absl::StatusOr<uint32_t> RotateKek(const RotationHook& hook = {});

  // Monotonic counters sealed under the master key, for node state that must
  // never go backwards, such as the highest manifest version accepted. They
  // live here, not among the records, so restoring a backup of the records
  // cannot roll them back; the entry exists from the store's first write, so
  // deleting it makes the store refuse to open (STORE_CORRUPT). Replaying an
  // older copy of the whole key store is not detected here (it takes
  // witnesses). Get: nullopt if never set.
  [[nodiscard]] absl::StatusOr<std::optional<uint64_t>> GetCounter(std::string_view name) const;
  // Sets the counter to `value` (synced) if that is higher; never lowers it.
  [[nodiscard]] absl::Status RaiseCounter(std::string_view name, uint64_t value);

  uint32_t active_kek() const;
  size_t kek_count() const;

 private:
  explicit KeyStore(keys::MasterKey master);
  [[nodiscard]] absl::Status LoadOrInit(bool read_only);
  absl::Status FinishRotation(uint32_t to, const RotationHook& hook);
  [[nodiscard]] absl::StatusOr<keys::DataKey> Unwrap(const keys::DataKeyRef& ref, std::string_view wrapped) const;
  std::string Wrap(const keys::DataKeyRef& ref, const keys::DataKey& dek, uint32_t kek_id) const;
  // REQUIRES: mu_ held. Reads, unwraps and caches the DEK of `ref`.
  [[nodiscard]] absl::Status LoadLocked(const keys::DataKeyRef& ref, keys::DataKey* out);

  const keys::MasterKey master_;
  std::unique_ptr<rocksdb::DB> db_;
  keys::SecretBytes hash_key_;
  std::mutex rotate_mu_;  // one rotation at a time
  // Guards keks_ and active_, serialises DEK writes and deletes, and is held
  // from reading a DEK to caching it (see LoadLocked).
  mutable std::mutex mu_;
  std::map<uint32_t, keys::SecretBytes> keks_;
  std::map<std::string, uint64_t> counters_;  // guarded by mu_
  uint32_t active_ = 0;

  class Cache;  // unwrapped DEKs in locked memory; see key_store.cc
  std::unique_ptr<Cache> cache_;
};

}  // namespace casenode::store
