#include "store/store.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/nonce.h"
#include "store/internal/rocksdb_status.h"

namespace casenode::store {
namespace {

constexpr uint8_t kRecordVersion = 2;
constexpr size_t kKeyIdSize = 8;
constexpr size_t kHeaderSize = 1 + 1 + 32 + 8 + kKeyIdSize;
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::string_view kAdPrefix{"casenode/record/v1\0", 19};
constexpr std::string_view kFormatKey = "format";

struct Header {
  uint8_t version = 0;
  keys::DataKeyRef ref;
  int64_t expires_at = 0;  // seconds since the epoch; 0 = never
  std::array<uint8_t, kKeyIdSize> key_id{};
};

// Which generation of a data key sealed a record: a hash of the key itself.
// A subject that is shredded and later gets a new key has records under the
// old one; their id no longer matches, so they read as shredded (and the
// sweep removes them), never as corrupt.
std::array<uint8_t, kKeyIdSize> KeyId(const keys::DataKey& dek) {
  static constexpr std::string_view kDomain = "casenode/dek-id/v1";
  std::array<uint8_t, kKeyIdSize> id{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, id.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(kDomain.data()), kDomain.size());
  crypto_generichash_update(&st, dek.data(), keys::DataKey::kSize);
  crypto_generichash_final(&st, id.data(), id.size());
  return id;
}

bool ParseHeader(std::string_view v, Header* h) {
  if (v.size() < kHeaderSize + kNonce + kTag) return false;
  h->version = static_cast<uint8_t>(v[0]);
  h->ref.kind = static_cast<keys::DataKeyKind>(v[1]);
  std::memcpy(h->ref.id.data(), v.data() + 2, 32);
  h->expires_at = static_cast<int64_t>(ReadU64(AsBytes(v.substr(34, 8))));
  std::memcpy(h->key_id.data(), v.data() + 42, kKeyIdSize);
  return true;
}

bool Expired(const Header& h, int64_t now) { return h.expires_at != 0 && h.expires_at <= now; }

// Builds the associated data into a per-thread buffer (no allocation on the hot path).
std::string_view AssociatedData(Family family, std::string_view key, std::string_view header) {
  thread_local std::string ad;
  ad.clear();
  ad += kAdPrefix;
  ad += FamilyName(family);
  ad.push_back('\0');
  ad += key;
  ad += header;
  return ad;
}

// Drops expired records during compaction; reads the clear-text expiry only.
// The clock must be thread-safe: compactions run on RocksDB's threads.
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(Clock clock) : clock_(std::move(clock)) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*, bool*) const override {
    Header h;
    return ParseHeader(value.ToStringView(), &h) && Expired(h, clock_().time_since_epoch().count());
  }
  const char* Name() const override { return "casenode.ExpiryFilter"; }

 private:
  Clock clock_;
};

}  // namespace

std::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kSignals: return "signals";
    case Family::kCases: return "cases";
    case Family::kConsents: return "consents";
    case Family::kDecisions: return "decisions";
    case Family::kAudit: return "audit";
    case Family::kQuotas: return "quotas";
    default: return "unspecified";
  }
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir, KeyStore& keys, Clock clock,
                                                   StoreOptions options) {
  std::unique_ptr<Store> store(new Store());
  store->keys_ = &keys;
  store->clock_ = std::move(clock);
  store->options_ = options;

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // One filter shared by every family; RocksDB may call it from several threads.
  auto* filter = new ExpiryFilter(store->clock_);
  cf_options.compaction_filter = filter;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (Family f : kAllFamilies) cfs.emplace_back(std::string(FamilyName(f)), cf_options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, cfs, &handles, &db);
  if (s.IsInvalidArgument() && s.ToString().find("Column famil") != std::string::npos) {
    return Error(Reason::kNewerFormat, 
                          StrCat("record store in ", dir, " has column families this casenode does not know (", s.ToString(), ")"));
  }
  RETURN_IF_ERROR(FromRocks(s, "record store"));
  store->db_.reset(db);
  store->handles_ = std::move(handles);
  store->filter_.reset(filter);

  std::string format;
  s = db->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions w;
    w.sync = true;
    RETURN_IF_ERROR(FromRocks(db->Put(w, kFormatKey, std::to_string(kFormatVersion)), "record store"));
  } else {
    RETURN_IF_ERROR(FromRocks(s, "record store"));
    if (format != std::to_string(kFormatVersion)) {
      return Error(Reason::kNewerFormat, StrCat("record store format ", format,
                                                             " was written by a newer casenode (this one reads ",
                                                             kFormatVersion, ")"));
    }
  }
  return store;
}

Store::~Store() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

rocksdb::ColumnFamilyHandle* Store::Handle(Family family) const {
  const auto i = static_cast<size_t>(family);
  return i > 0 && i < handles_.size() ? handles_[i] : nullptr;
}

absl::Status Store::Shred(const keys::DataKeyRef& ref) {
  std::unique_lock<std::shared_mutex> shredding(shred_mu_);
  return keys_->Shred(ref);
}

absl::Status Store::Write(std::span<const Record> records, Durability durability) {
  // Held from taking each data key to the write: a Shred waits for it, so no
  // record is ever sealed under a key that is already gone (it would read as
  // corrupt, not as shredded, and no sweep would remove it).
  std::shared_lock<std::shared_mutex> writing(shred_mu_);
  rocksdb::WriteBatch batch;
  std::string value;
  // Consecutive records under the same data key (an audit batch: all under
  // the node key) take it, and hash its id, once.
  keys::DataKey dek;
  std::array<uint8_t, kKeyIdSize> key_id{};
  const keys::DataKeyRef* dek_ref = nullptr;
  for (const Record& r : records) {
    rocksdb::ColumnFamilyHandle* cf = Handle(r.family);
    if (cf == nullptr) return absl::InvalidArgumentError("record: unknown family");
    if (r.key.empty()) return absl::InvalidArgumentError("record: empty key");
    if (r.data_key.kind != keys::DataKeyKind::kSubject && r.data_key.kind != keys::DataKeyKind::kCase &&
        r.data_key.kind != keys::DataKeyKind::kNode) {
      return absl::InvalidArgumentError("record: data key kind must be subject, case or node");
    }
    if (dek_ref == nullptr || *dek_ref != r.data_key) {
      RETURN_IF_ERROR(keys_->GetOrCreate(r.data_key, &dek));
      key_id = KeyId(dek);
      dek_ref = &r.data_key;
    }
    value.resize(kHeaderSize + kNonce + r.plaintext.size() + kTag);
    auto* p = reinterpret_cast<uint8_t*>(value.data());
    p[0] = kRecordVersion;
    p[1] = static_cast<uint8_t>(r.data_key.kind);
    std::memcpy(p + 2, r.data_key.id.data(), 32);
    const uint64_t e = r.expires_at ? static_cast<uint64_t>(r.expires_at->time_since_epoch().count()) : 0;
    for (size_t i = 0; i < 8; ++i) p[34 + i] = static_cast<uint8_t>(e >> (56 - 8 * i));
    std::memcpy(p + 42, key_id.data(), kKeyIdSize);
    keys::FillRandomNonce(p + kHeaderSize, kNonce);
    const std::string_view ad = AssociatedData(r.family, r.key, std::string_view(value.data(), kHeaderSize));
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + kHeaderSize + kNonce, nullptr,
                                               reinterpret_cast<const uint8_t*>(r.plaintext.data()),
                                               r.plaintext.size(), reinterpret_cast<const uint8_t*>(ad.data()),
                                               ad.size(), nullptr, p + kHeaderSize, dek.data());
    batch.Put(cf, r.key, value);
  }
  rocksdb::WriteOptions w;
  w.sync = options_.sync && durability == Durability::kSynced;
  return FromRocks(db_->Write(w, &batch), "record store");
}

absl::StatusOr<std::string> Store::Open(Family family, std::string_view key, std::string_view value) const {
  Header h;
  const std::string_view name = FamilyName(family);
  if (!ParseHeader(value, &h)) {
    return Error(Reason::kRecordCorrupt, StrCat(name, " record is truncated"));
  }
  if (h.version != kRecordVersion) {
    return Error(Reason::kNewerFormat, StrCat(name, " record has format version ", h.version,
                                                           " (this casenode reads ", kRecordVersion, ")"));
  }
  if (Expired(h, clock_().time_since_epoch().count())) return absl::NotFoundError(StrCat(name, " record expired"));
  keys::DataKey dek;
  absl::Status s = keys_->Get(h.ref, &dek);
  if (!s.ok() && ReasonOf(s) != Reason::kShredded) return s;
  if (!s.ok() || sodium_memcmp(KeyId(dek).data(), h.key_id.data(), kKeyIdSize) != 0) {
    return Error(Reason::kShredded, StrCat(name, " record was crypto-shredded"));
  }
  const size_t ct_len = value.size() - kHeaderSize - kNonce;
  std::string plain(ct_len - kTag, '\0');
  const std::string_view ad = AssociatedData(family, key, value.substr(0, kHeaderSize));
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<uint8_t*>(plain.data()), nullptr, nullptr, p + kHeaderSize + kNonce, ct_len,
      reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), p + kHeaderSize, dek.data());
  if (rc != 0) {
    return Error(Reason::kRecordCorrupt, StrCat(name, " record failed authentication (corrupted, or moved from another key)"));
  }
  return plain;
}

absl::StatusOr<std::string> Store::Get(Family family, std::string_view key) const {
  rocksdb::ColumnFamilyHandle* cf = Handle(family);
  if (cf == nullptr) return absl::InvalidArgumentError("record: unknown family");
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
  if (s.IsNotFound()) return absl::NotFoundError(StrCat(FamilyName(family), " record not found"));
  RETURN_IF_ERROR(FromRocks(s, "record store"));
  return Open(family, key, value.ToStringView());
}

absl::Status Store::Delete(Family family, std::string_view key) {
  rocksdb::ColumnFamilyHandle* cf = Handle(family);
  if (cf == nullptr) return absl::InvalidArgumentError("record: unknown family");
  rocksdb::WriteOptions w;
  w.sync = options_.sync;
  return FromRocks(db_->Delete(w, cf, key), "record store");
}

absl::Status Store::Scan(Family family, std::string_view prefix,
                         const std::function<void(std::string_view, const absl::StatusOr<std::string>&)>& fn) const {
  rocksdb::ColumnFamilyHandle* cf = Handle(family);
  if (cf == nullptr) return absl::InvalidArgumentError("record: unknown family");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::StatusOr<std::string> plain = Open(family, it->key().ToStringView(), it->value().ToStringView());
    if (!plain.ok() && plain.status().code() == absl::StatusCode::kNotFound && ReasonOf(plain.status()) == Reason::kNone) {
      continue;  // expired
    }
    fn(it->key().ToStringView(), plain);
  }
  return FromRocks(it->status(), "record store");
}

absl::StatusOr<SweepStats> Store::Sweep() {
  SweepStats stats;
  const int64_t now = clock_().time_since_epoch().count();
  for (Family f : kAllFamilies) {
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(f)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      Header h;
      if (!ParseHeader(it->value().ToStringView(), &h)) continue;  // corrupt: left for an operator to see
      if (Expired(h, now)) {
        batch.Delete(Handle(f), it->key());
        ++stats.expired;
        continue;
      }
      keys::DataKey dek;
      absl::Status s = keys_->Get(h.ref, &dek);
      const bool key_gone = !s.ok() ? ReasonOf(s) == Reason::kShredded
                                    : sodium_memcmp(KeyId(dek).data(), h.key_id.data(), kKeyIdSize) != 0;
      if (key_gone) {
        batch.Delete(Handle(f), it->key());
        ++stats.shredded;
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "record store"));
    rocksdb::WriteOptions w;
    w.sync = true;
    RETURN_IF_ERROR(FromRocks(db_->Write(w, &batch), "record store"));
  }
  return stats;
}

absl::Status Store::Checkpoint(const std::string& dir) const {
  if (std::filesystem::exists(dir)) return absl::AlreadyExistsError(StrCat("backup directory ", dir, " already exists"));
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "record store"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(dir), "record store checkpoint");
}

absl::Status Store::CompactAll() {
  rocksdb::CompactRangeOptions opts;
  opts.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (Family f : kAllFamilies) {
    RETURN_IF_ERROR(FromRocks(db_->CompactRange(opts, Handle(f), nullptr, nullptr), "record store"));
  }
  return absl::OkStatus();
}

}  // namespace casenode::store
