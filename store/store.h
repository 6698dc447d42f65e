// Store: the node's records, one RocksDB (data/records) with a column family
// per record kind, every value sealed under its subject's or case's data key.
//
// Record value format, version 2:
//   version u8 = 2 | key kind u8 | key id [32] | expires_at u64be (0 = never)
//   | key generation [8] = BLAKE2b-64("casenode/dek-id/v1" || data key)
//   | nonce [24] | XChaCha20-Poly1305 ciphertext and tag
// Associated data: "casenode/record/v1" 0x00 | family name 0x00 | record key
//   | the header bytes before the nonce.
// So a value moved to another key or family, or with its expiry or key
// reference altered, fails to open (DataLoss naming the family, never content).
// A record whose data key was shredded reads as SHREDDED, also after the
// subject got a new key (the key generation differs).
// Expiry is in the clear so the compaction filter can drop expired records
// without keys; reads never return an expired record.
//
// Record keys are chosen by callers and must never hold a BSN or pseudonym:
// use KeyStore::SubjectHandle. Writes are acknowledged only once synced to the
// WAL; concurrent writers are group-committed by RocksDB.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "keys/data_key.h"
#include "store/key_store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class CompactionFilter;
class DB;
}  // namespace rocksdb

namespace casenode::store {

// Record kinds, one column family each. Persisted: values and names never change.
enum class Family : uint8_t {
  kUnspecified = 0,
  kSignals = 1,
  kCases = 2,
  kConsents = 3,
  kDecisions = 4,
  kAudit = 5,
  kQuotas = 6,  // quota counts and quota alarms: no personal data
};
inline constexpr Family kAllFamilies[] = {Family::kSignals,   Family::kCases, Family::kConsents,
                                          Family::kDecisions, Family::kAudit, Family::kQuotas};
std::string_view FamilyName(Family family);

// One record to write.
struct Record {
  Family family = Family::kUnspecified;
  std::string key;
  keys::DataKeyRef data_key;
  std::string plaintext;
  std::optional<SystemTime> expires_at;
};

// kSynced: acknowledged only once fsynced (the default). kBuffered: in the WAL
// but not yet fsynced; survives a process crash, not a power loss. Only for
// records that concern no personal data.
enum class Durability { kSynced, kBuffered };

struct SweepStats {
  size_t expired = 0;
  size_t shredded = 0;
};

struct StoreOptions {
  bool sync = true;  // false only for benchmarks of the unsynced path
  size_t block_cache_bytes = 64 << 20;
};

class Store {
 public:
  static constexpr int kFormatVersion = 1;

  // Opens or creates the record store in `dir`, sealing with keys from `keys`
  // (which must outlive the Store). FailedPrecondition with reason
  // NEWER_FORMAT for a store written by a newer casenode.
  // `clock` must be thread-safe (the compaction filter calls it).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir, KeyStore& keys, Clock clock,
                                                     StoreOptions options = {});
  ~Store();

  // Writes the records atomically; returns once they are durable.
  [[nodiscard]] absl::Status Write(std::span<const Record> records, Durability durability = Durability::kSynced);
  [[nodiscard]] absl::Status Put(const Record& record, Durability durability = Durability::kSynced) {
    return Write(std::span<const Record>(&record, 1), durability);
  }

  // Crypto-shreds a data key (KeyStore::Shred), after every write in
  // progress: no write that started before it seals a record under the key
  // it destroys, and every write after it gets a new key. Callers shred
  // through the store, not the key store directly.
  [[nodiscard]] absl::Status Shred(const keys::DataKeyRef& ref);

  // The plaintext of a record. NotFound if absent or expired; NotFound with
  // reason SHREDDED if its data key was shredded; DataLoss with reason
  // RECORD_CORRUPT if it fails authentication.
  [[nodiscard]] absl::StatusOr<std::string> Get(Family family, std::string_view key) const;
  [[nodiscard]] absl::Status Delete(Family family, std::string_view key);

  // Calls fn(key, plaintext-or-error) for each live record whose key starts with prefix.
  [[nodiscard]] absl::Status Scan(Family family, std::string_view prefix,
                                  const std::function<void(std::string_view, const absl::StatusOr<std::string>&)>& fn) const;

  // Deletes every expired record and every record whose data key was shredded.
  [[nodiscard]] absl::StatusOr<SweepStats> Sweep();

  // A consistent copy of the records (hard links where possible) in `dir`,
  // which must not exist. It holds sealed records only, never data keys.
  [[nodiscard]] absl::Status Checkpoint(const std::string& dir) const;

  // Forces a full compaction (the compaction filter drops expired records).
  [[nodiscard]] absl::Status CompactAll();

 private:
  mutable std::shared_mutex shred_mu_;  // shared by writes, exclusive by Shred
  Store() = default;
  rocksdb::ColumnFamilyHandle* Handle(Family family) const;
  [[nodiscard]] absl::StatusOr<std::string> Open(Family family, std::string_view key, std::string_view value) const;

  KeyStore* keys_ = nullptr;
  Clock clock_;
  StoreOptions options_;
  std::unique_ptr<rocksdb::CompactionFilter> filter_;  // shared by every family; outlives db_
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // index = Family value; [0] = default
  std::unique_ptr<rocksdb::DB> db_;  // declared last: destroyed first
};

}  // namespace casenode::store
