// bench store_put / store_get: the encrypted Store against plain RocksDB with
// the same options (block cache, bloom filter, one column family, no sync),
// 32-byte keys and 256-byte values, at 1e5 and 1e6 records, single thread.
// bench store_put_synced: acknowledged (synced) writes with 8 writers, which
// RocksDB group-commits, against plain RocksDB with sync=true per write.
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "store/key_store.h"
#include "store/store.h"
#include "tests/bench/harness.h"
#include "tests/support/temp_dir.h"

using namespace casenode;

namespace {

constexpr size_t kValueSize = 256;
constexpr size_t kSubjects = 1000;

std::string KeyFor(uint64_t i) {
  std::string k(32, '\0');
  crypto_generichash(reinterpret_cast<uint8_t*>(k.data()), k.size(), reinterpret_cast<const uint8_t*>(&i), sizeof i,
                     nullptr, 0);
  return k;
}

keys::DataKeyRef SubjectFor(uint64_t i) {
  keys::DataKeyRef r{keys::DataKeyKind::kSubject, {}};
  const uint64_t s = i % kSubjects;
  std::memcpy(r.id.data(), &s, sizeof s);
  return r;
}

// Plain RocksDB configured as the Store configures its families.
struct PlainDb {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  explicit PlainDb(const std::string& dir) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(64 << 20);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    rocksdb::ColumnFamilyOptions cfo;
    cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}}, {"signals", cfo}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir, cfs, &handles, &raw).ok()) std::exit(1);
    db.reset(raw);
    db->DestroyColumnFamilyHandle(handles[0]);
    cf = handles[1];
  }
  ~PlainDb() { db->DestroyColumnFamilyHandle(cf); }
};

bench::Result Timed(size_t n, const std::function<bool(size_t)>& op) {
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    if (!op(i)) {
      std::fprintf(stderr, "bench store: operation %zu failed\n", i);
      std::exit(1);
    }
  }
  bench::Result r;
  r.n = n;
  r.ops_per_s = static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 1;
  std::string value(kValueSize, '\0');
  randombytes_buf(value.data(), value.size());

  for (size_t records : {size_t{100000}, size_t{1000000}}) {
    TempDir dir;
    if (!keys::MasterKey::CreateKeyFile(dir.path("m.key")).ok()) return 1;
    auto ks = store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("m.key")));
    auto store = store::Store::Open(dir.path("records"), **ks, SystemNow, store::StoreOptions{.sync = false});
    PlainDb plain(dir.path("plain"));
    rocksdb::WriteOptions nosync;

    // Puts: interleave in chunks so both see the same machine state.
    bench::Result ours_put{}, base_put{};
    const size_t chunk = records / 10;
    double ours_s = 0, base_s = 0;
    for (size_t c = 0; c < 10; ++c) {
      auto b = Timed(chunk, [&](size_t i) {
        return plain.db->Put(nosync, plain.cf, KeyFor(c * chunk + i), value).ok();
      });
      auto o = Timed(chunk, [&](size_t i) {
        const size_t k = c * chunk + i;
        return (*store)->Put({store::Family::kSignals, KeyFor(k), SubjectFor(k), value, std::nullopt}).ok();
      });
      base_s += static_cast<double>(chunk) / b.ops_per_s;
      ours_s += static_cast<double>(chunk) / o.ops_per_s;
    }
    ours_put.ops_per_s = static_cast<double>(records) / ours_s;
    base_put.ops_per_s = static_cast<double>(records) / base_s;
    ours_put.n = base_put.n = records;
    bench::Report("store_put", ours_put, base_put, "records=" + std::to_string(records) + " value_bytes=256");

    // Gets: random keys, both stores, interleaved rounds.
    std::mt19937_64 rng(42);
    std::vector<uint64_t> probe(200000);
    for (auto& p : probe) p = rng() % records;
    const bench::Comparison get = bench::Compare(
        3,
        [&] {
          return Timed(probe.size(), [&](size_t i) { return (*store)->Get(store::Family::kSignals, KeyFor(probe[i])).ok(); });
        },
        [&] {
          return Timed(probe.size(), [&](size_t i) {
            rocksdb::PinnableSlice v;
            return plain.db->Get(rocksdb::ReadOptions(), plain.cf, KeyFor(probe[i]), &v).ok();
          });
        });
    bench::Report("store_get", get, "records=" + std::to_string(records));
  }

  // Acknowledged writes: ours with 8 writers (group commit) vs one synced write at a time.
  {
    TempDir dir;
    if (!keys::MasterKey::CreateKeyFile(dir.path("m.key")).ok()) return 1;
    auto ks = store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("m.key")));
    auto store = store::Store::Open(dir.path("records"), **ks, SystemNow);
    PlainDb plain(dir.path("plain"));
    std::atomic<uint64_t> next{0};
    rocksdb::WriteOptions sync;
    sync.sync = true;
    const bench::Comparison put = bench::Compare(
        3,
        [&] {
          return bench::RunConcurrent(8, std::chrono::milliseconds(2000), [&] {
            const uint64_t k = next++;
            return (*store)->Put({store::Family::kSignals, KeyFor(k), SubjectFor(k), value, std::nullopt}).ok();
          });
        },
        [&] {
          return bench::RunConcurrent(1, std::chrono::milliseconds(2000), [&] {
            return plain.db->Put(sync, plain.cf, KeyFor(next++), value).ok();
          });
        });
    bench::Report("store_put_synced", put, "writers=8 baseline_writers=1");
  }
  return 0;
}
