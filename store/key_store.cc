#include "store/key_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "store/internal/rocksdb_status.h"

namespace casenode::store {

using keys::DataKey;
using keys::DataKeyKind;
using keys::DataKeyRef;
using keys::DataKeyRefHash;
using keys::MasterKey;
using keys::SecretBytes;

namespace {

constexpr std::string_view kKeyStoreFormatKey = "format";
constexpr std::string_view kActiveKey = "kek-active";
constexpr std::string_view kHashKeyKey = "node-hash-key";
constexpr std::string_view kCountersKey = "counters";
constexpr std::string_view kCountersPurpose = "counters";
constexpr size_t kMaxCounters = 64;

// Counters as sealed: u32be count, then per counter (sorted by name)
// u32be name length, name, u64be value.
std::string EncodeCounters(const std::map<std::string, uint64_t>& counters) {
  std::string out;
  AppendU32(out, static_cast<uint32_t>(counters.size()));
  for (const auto& [name, value] : counters) {
    AppendU32(out, static_cast<uint32_t>(name.size()));
    out += name;
    AppendU64(out, value);
  }
  return out;
}

std::optional<std::map<std::string, uint64_t>> DecodeCounters(std::span<const uint8_t> in) {
  std::map<std::string, uint64_t> out;
  size_t at = 0;
  auto take = [&](size_t n) { return at + n <= in.size() ? (at += n, true) : false; };
  if (!take(4)) return std::nullopt;
  const uint32_t count = casenode::ReadU32(in.subspan(0));
  if (count > kMaxCounters) return std::nullopt;
  for (uint32_t i = 0; i < count; ++i) {
    if (!take(4)) return std::nullopt;
    const uint32_t len = casenode::ReadU32(in.subspan(at - 4));
    if (len > 64 || !take(len)) return std::nullopt;
    std::string name(reinterpret_cast<const char*>(in.data() + at - len), len);
    if (!take(8)) return std::nullopt;
    out[std::move(name)] = casenode::ReadU64(in.subspan(at - 8));
  }
  if (at != in.size()) return std::nullopt;
  return out;
}
constexpr std::string_view kKekPrefix = "kek/";
constexpr std::string_view kDekPrefix = "dek/";
constexpr std::string_view kKekPurpose = "kek";
constexpr std::string_view kHashKeyPurpose = "node-hash-key";
constexpr size_t kDekNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kDekTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kWrappedSize = 4 + kDekNonce + 32 + kDekTag;
constexpr size_t kRotationBatch = 1000;

std::string U32(uint32_t v) {
  std::string s;
  AppendU32(s, v);
  return s;
}
// REQUIRES: s.size() >= 4 (callers check the length of what they read first).
uint32_t ReadU32(std::string_view s) { return casenode::ReadU32(AsBytes(s)); }

absl::Status Corrupt(std::string_view what) {
  return Error(Reason::kStoreCorrupt, StrCat("key store: ", what));
}

std::string DekKey(const DataKeyRef& ref) {
  std::string k(kDekPrefix);
  k.push_back(static_cast<char>(ref.kind));
  k.append(reinterpret_cast<const char*>(ref.id.data()), ref.id.size());
  return k;
}

std::string DekAd(const DataKeyRef& ref, uint32_t kek_id) {
  std::string ad = "casenode/dek/v1";
  ad.push_back(static_cast<char>(ref.kind));
  ad.append(reinterpret_cast<const char*>(ref.id.data()), ref.id.size());
  ad += U32(kek_id);
  return ad;
}

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions w;
  w.sync = true;
  return w;
}

absl::Status Shredded() {
  return Error(Reason::kShredded, "data key was crypto-shredded");
}

}  // namespace

// The DEK cache: a bounded map from DataKeyRef to a slot of one sodium_malloc
// allocation (locked, guarded) holding that DEK.
//
// Invariant (under mu_): every slot is either the value of exactly one index_
// entry or in free_, never both. Put takes a free slot, or evicts
// index_.begin() when none is left: any victim is correct, and that one is
// O(1) with no bookkeeping on hits. Erase wipes the slot and frees it.
// Thread-safe.
class KeyStore::Cache {
 public:
  explicit Cache(size_t capacity) : slab_(capacity * DataKey::kSize) {
    free_.reserve(capacity);
    for (size_t i = capacity; i > 0; --i) free_.push_back(i - 1);
    index_.reserve(capacity);
  }

  bool Get(const DataKeyRef& ref, DataKey* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(ref);
    if (it == index_.end()) return false;
    std::memcpy(out->data(), Slot(it->second), DataKey::kSize);
    return true;
  }

  // Inserts or replaces the DEK of `ref`.
  void Put(const DataKeyRef& ref, const DataKey& dek) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(ref);
    size_t slot = 0;
    if (it != index_.end()) {
      slot = it->second;
    } else {
      if (free_.empty()) {
        auto victim = index_.begin();
        free_.push_back(victim->second);
        index_.erase(victim);
      }
      slot = free_.back();
      free_.pop_back();
      index_.emplace(ref, slot);
    }
    std::memcpy(Slot(slot), dek.data(), DataKey::kSize);
  }

  void Erase(const DataKeyRef& ref) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(ref);
    if (it == index_.end()) return;
    sodium_memzero(Slot(it->second), DataKey::kSize);
    free_.push_back(it->second);
    index_.erase(it);
  }

 private:
  uint8_t* Slot(size_t slot) const { return slab_.data() + slot * DataKey::kSize; }

  mutable std::mutex mu_;
  mutable SecretBytes slab_;
  std::unordered_map<DataKeyRef, size_t, DataKeyRefHash> index_;
  std::vector<size_t> free_;
};

KeyStore::KeyStore(MasterKey master) : master_(std::move(master)) {}
KeyStore::~KeyStore() = default;

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& dir, MasterKey master,
                                                        KeyStoreOptions ks_options) {
  if (ks_options.cache_capacity == 0) return absl::InvalidArgumentError("key store: cache_capacity must be at least 1");
  std::unique_ptr<KeyStore> ks(new KeyStore(std::move(master)));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  rocksdb::DB* db = nullptr;
  if (std::filesystem::exists(dir + "/CURRENT")) {
    // Check format and master key on a read-only open first: a refused open
    // must leave every file as it was (a read-write open replays the WAL).
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(options, dir, &db), "key store"));
    ks->db_.reset(db);
    RETURN_IF_ERROR(ks->LoadOrInit(/*read_only=*/true));
    ks->db_.reset();
    ks->keks_.clear();
    db = nullptr;
  }
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir, &db), "key store"));
  ks->db_.reset(db);
  ks->cache_ = std::make_unique<Cache>(ks_options.cache_capacity);
  RETURN_IF_ERROR(ks->LoadOrInit(/*read_only=*/false));
  return ks;
}

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::OpenReadOnly(const std::string& dir, MasterKey master) {
  if (!std::filesystem::exists(dir + "/CURRENT")) return absl::NotFoundError(StrCat("key store: none in ", dir));
  std::unique_ptr<KeyStore> ks(new KeyStore(std::move(master)));
  rocksdb::Options options;
  options.paranoid_checks = true;
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(options, dir, &db), "key store"));
  ks->db_.reset(db);
  ks->cache_ = std::make_unique<Cache>(1);
  RETURN_IF_ERROR(ks->LoadOrInit(/*read_only=*/true));
  return ks;
}

absl::Status KeyStore::LoadOrInit(bool read_only) {
  const MasterKey& master = master_;
  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kKeyStoreFormatKey, &format);
  if (s.IsNotFound() && !read_only) {
    // A new store: KEK 1 and the node hash key, in one synced batch.
    SecretBytes kek = SecretBytes::Random(32);
    SecretBytes hash_key = SecretBytes::Random(crypto_generichash_KEYBYTES);
    rocksdb::WriteBatch batch;
    const Bytes sealed_kek = master.Seal(kKekPurpose, kek.span());
    const Bytes sealed_hash = master.Seal(kHashKeyPurpose, hash_key.span());
    batch.Put(StrCat(kKekPrefix, U32(1)), rocksdb::Slice(reinterpret_cast<const char*>(sealed_kek.data()), sealed_kek.size()));
    batch.Put(kActiveKey, U32(1));
    batch.Put(kHashKeyKey, rocksdb::Slice(reinterpret_cast<const char*>(sealed_hash.data()), sealed_hash.size()));
    // The counters exist from the first write on, so that deleting them is
    // corruption (the node refuses to start), never a silent reset.
    const std::string counters = EncodeCounters({});
    const Bytes sealed_counters = master.Seal(kCountersPurpose, AsBytes(counters));
    batch.Put(kCountersKey,
              rocksdb::Slice(reinterpret_cast<const char*>(sealed_counters.data()), sealed_counters.size()));
    batch.Put(kKeyStoreFormatKey, std::to_string(kFormatVersion));
    RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "key store"));
    format = std::to_string(kFormatVersion);
  } else {
    RETURN_IF_ERROR(FromRocks(s, "key store"));
  }
  if (format != std::to_string(kFormatVersion)) {
    return Error(Reason::kNewerFormat, StrCat("key store format ", format,
                                                           " was written by a newer casenode (this one reads ",
                                                           kFormatVersion, ")"));
  }
  auto wrong_key = [] {
    return Error(Reason::kWrongMasterKey, "key store: wrong master key or passphrase (cannot open its KEKs)");
  };
  std::string sealed_hash;
  RETURN_IF_ERROR(FromRocks(db_->Get(rocksdb::ReadOptions(), kHashKeyKey, &sealed_hash), "key store"));
  auto hash_key = master.Open(kHashKeyPurpose, AsBytes(sealed_hash));
  if (!hash_key.ok()) return wrong_key();
  // Sealed values are authenticated, but their sizes are still checked: every
  // value is used as a fixed-size key, and a wrong size would be read past.
  if (hash_key->size() != crypto_generichash_KEYBYTES) {
    return Corrupt(StrCat("node-hash-key is ", hash_key->size(), " bytes (expected ", crypto_generichash_KEYBYTES, ")"));
  }
  hash_key_ = *std::move(hash_key);

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kKekPrefix); it->Valid() && it->key().starts_with(kKekPrefix); it->Next()) {
    const std::string_view id_bytes = it->key().ToStringView().substr(kKekPrefix.size());
    if (id_bytes.size() != 4) {
      return Corrupt(StrCat("entry kek/ has a ", id_bytes.size(), "-byte KEK id (expected 4)"));
    }
    const uint32_t id = ReadU32(id_bytes);
    auto kek = master.Open(kKekPurpose, AsBytes(it->value().ToStringView()));
    if (!kek.ok()) return wrong_key();
    if (kek->size() != 32) return Corrupt(StrCat("KEK ", id, " is ", kek->size(), " bytes (expected 32)"));
    keks_.emplace(id, *std::move(kek));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "key store"));
  std::string active;
  RETURN_IF_ERROR(FromRocks(db_->Get(rocksdb::ReadOptions(), kActiveKey, &active), "key store"));
  if (active.size() != 4) return Corrupt(StrCat("kek-active is ", active.size(), " bytes (expected 4)"));
  active_ = ReadU32(active);
  if (!keks_.contains(active_)) return Corrupt(StrCat("kek-active names KEK ", active_, ", which is missing"));
  std::string sealed_counters;
  s = db_->Get(rocksdb::ReadOptions(), kCountersKey, &sealed_counters);
  if (s.IsNotFound()) return Corrupt("the counters entry is missing");
  RETURN_IF_ERROR(FromRocks(s, "key store"));
  auto counters_plain = master.Open(kCountersPurpose, AsBytes(sealed_counters));
  if (!counters_plain.ok()) return Corrupt("the counters entry does not open");
  auto counters = DecodeCounters(counters_plain->span());
  if (!counters) return Corrupt("the counters entry is malformed");
  counters_ = *std::move(counters);
  if (keks_.size() > 1 && !read_only) return FinishRotation(active_, {});  // a rotation was interrupted
  return absl::OkStatus();
}

std::array<uint8_t, 32> KeyStore::SubjectHandle(std::span<const uint8_t> pseudonym) const {
  std::array<uint8_t, 32> out{};
  crypto_generichash(out.data(), out.size(), pseudonym.data(), pseudonym.size(), hash_key_.data(), hash_key_.size());
  return out;
}

std::string KeyStore::Wrap(const DataKeyRef& ref, const DataKey& dek, uint32_t kek_id) const {
  std::string out = U32(kek_id);
  out.resize(kWrappedSize);
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  randombytes_buf(p + 4, kDekNonce);
  const std::string ad = DekAd(ref, kek_id);
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + 4 + kDekNonce, nullptr, dek.data(), dek.size(),
                                             reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr, p + 4,
                                             keks_.at(kek_id).data());
  return out;
}

absl::StatusOr<DataKey> KeyStore::Unwrap(const DataKeyRef& ref, std::string_view wrapped) const {
  if (wrapped.size() != kWrappedSize) return Corrupt(StrCat("a data key is ", wrapped.size(), " bytes (expected ", kWrappedSize, ")"));
  const uint32_t kek_id = ReadU32(wrapped);
  auto kek = keks_.find(kek_id);
  if (kek == keks_.end()) return Error(Reason::kStoreCorrupt, "key store: data key names an unknown KEK");
  const auto* p = reinterpret_cast<const uint8_t*>(wrapped.data());
  const std::string ad = DekAd(ref, kek_id);
  DataKey dek{};
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(dek.data(), nullptr, nullptr, p + 4 + kDekNonce, 32 + kDekTag,
                                                 reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), p + 4,
                                                 kek->second.data()) != 0) {
    return Error(Reason::kStoreCorrupt, "key store: data key failed authentication");
  }
  return dek;
}

absl::Status KeyStore::Get(const DataKeyRef& ref, DataKey* out) {
  if (cache_->Get(ref, out)) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  return LoadLocked(ref, out);
}

absl::Status KeyStore::LoadLocked(const DataKeyRef& ref, DataKey* out) {
  // mu_ is held from the read to the cache insert: Shred erases the cache
  // entry and deletes the DEK under mu_ too, so a DEK read before a Shred can
  // never be cached after it (which would undo the shred for every later Get).
  if (cache_->Get(ref, out)) return absl::OkStatus();  // loaded while we waited for mu_
  std::string wrapped;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), DekKey(ref), &wrapped);
  if (s.IsNotFound()) return Shredded();
  RETURN_IF_ERROR(FromRocks(s, "key store"));
  ASSIGN_OR_RETURN(DataKey dek, Unwrap(ref, wrapped));
  cache_->Put(ref, dek);
  *out = std::move(dek);
  return absl::OkStatus();
}

absl::Status KeyStore::GetOrCreate(const DataKeyRef& ref, DataKey* out) {
  if (cache_->Get(ref, out)) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = LoadLocked(ref, out);
  if (s.ok() || ReasonOf(s) != Reason::kShredded) return s;
  DataKey dek;
  randombytes_buf(dek.data(), dek.size());
  RETURN_IF_ERROR(FromRocks(db_->Put(Synced(), DekKey(ref), Wrap(ref, dek, active_)), "key store"));
  cache_->Put(ref, dek);
  *out = std::move(dek);
  return absl::OkStatus();
}

absl::Status KeyStore::Shred(const DataKeyRef& ref) {
  const std::string key = DekKey(ref);
  {
    // Erase and delete under mu_: see LoadLocked. Once this block is done,
    // no Get can return the old DEK and GetOrCreate makes a new one.
    std::lock_guard<std::mutex> lock(mu_);
    cache_->Erase(ref);
    RETURN_IF_ERROR(FromRocks(db_->Delete(Synced(), key), "key store"));
  }
  // Push the deletion through to the SST files so the wrapped key does not
  // linger in an older file of the key store either. Outside mu_: the delete
  // is already durable, and a flush and compaction would stall every cache
  // miss and key creation meanwhile.
  rocksdb::Slice k(key);
  rocksdb::CompactRangeOptions opts;
  opts.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions()), "key store"));
  return FromRocks(db_->CompactRange(opts, &k, &k), "key store");
}

absl::StatusOr<uint32_t> KeyStore::RotateKek(const RotationHook& hook) {
  std::lock_guard<std::mutex> rotating(rotate_mu_);
  uint32_t new_id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    new_id = keks_.rbegin()->first + 1;
    SecretBytes kek = SecretBytes::Random(32);
    const Bytes sealed = master_.Seal(kKekPurpose, kek.span());
    RETURN_IF_ERROR(FromRocks(db_->Put(Synced(), StrCat(kKekPrefix, U32(new_id)),
                                       rocksdb::Slice(reinterpret_cast<const char*>(sealed.data()), sealed.size())),
                              "key store"));
    keks_.emplace(new_id, std::move(kek));
  }
  if (hook) hook(1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(FromRocks(db_->Put(Synced(), kActiveKey, U32(new_id)), "key store"));
    active_ = new_id;
  }
  if (hook) hook(2);
  RETURN_IF_ERROR(FinishRotation(new_id, hook));
  return new_id;
}

absl::Status KeyStore::FinishRotation(uint32_t to, const RotationHook& hook) {
  // Re-wrap, batch by batch, every DEK that another KEK wraps. Each batch holds
  // mu_ so that no DEK is created or shredded between its read and its rewrite.
  std::string resume(kDekPrefix);
  bool first_batch = true;
  for (;;) {
    std::lock_guard<std::mutex> lock(mu_);
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    size_t n = 0;
    for (it->Seek(resume); it->Valid() && it->key().starts_with(kDekPrefix) && n < kRotationBatch; it->Next()) {
      const std::string_view key = it->key().ToStringView();
      const std::string_view value = it->value().ToStringView();
      resume = std::string(key) + '\0';
      if (value.size() == kWrappedSize && ReadU32(value) == to) continue;
      DataKeyRef ref;
      if (key.size() != kDekPrefix.size() + 1 + 32) return Error(Reason::kStoreCorrupt, "key store: malformed data key entry");
      ref.kind = static_cast<DataKeyKind>(key[kDekPrefix.size()]);
      std::memcpy(ref.id.data(), key.data() + kDekPrefix.size() + 1, 32);
      ASSIGN_OR_RETURN(DataKey dek, Unwrap(ref, value));
      batch.Put(it->key(), Wrap(ref, dek, to));
      ++n;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "key store"));
    if (n == 0) break;
    RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "key store"));
    if (first_batch && hook) hook(3);
    first_batch = false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    rocksdb::WriteBatch batch;
    for (const auto& [id, kek] : keks_) {
      if (id != to) batch.Delete(StrCat(kKekPrefix, U32(id)));
    }
    RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "key store"));
    std::erase_if(keks_, [to](const auto& entry) { return entry.first != to; });
  }
  if (hook) hook(4);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> KeyStore::GetCounter(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(std::string(name));
  return it == counters_.end() ? std::optional<uint64_t>() : std::optional<uint64_t>(it->second);
}

absl::Status KeyStore::RaiseCounter(std::string_view name, uint64_t value) {
  if (name.empty() || name.size() > 64) return absl::InvalidArgumentError("counter name: expected 1 to 64 bytes");
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> next = counters_;
  uint64_t& slot = next[std::string(name)];
  if (slot >= value && counters_.contains(std::string(name))) return absl::OkStatus();
  if (next.size() > kMaxCounters) return absl::ResourceExhaustedError("key store: too many counters");
  slot = value;
  const std::string plain = EncodeCounters(next);
  const Bytes sealed = master_.Seal(kCountersPurpose, AsBytes(plain));
  RETURN_IF_ERROR(FromRocks(
      db_->Put(Synced(), kCountersKey, rocksdb::Slice(reinterpret_cast<const char*>(sealed.data()), sealed.size())),
      "key store"));
  counters_ = std::move(next);
  return absl::OkStatus();
}

uint32_t KeyStore::active_kek() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

size_t KeyStore::kek_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keks_.size();
}

}  // namespace casenode::store
