// Raw RocksDB access to a closed record store, to play the attacker (or the
// failing disk) with the stored bytes.
#pragma once

#include <rocksdb/db.h>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "store/store.h"

namespace casenode::testing {

struct RawDb {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir, cfs, &handles, &db).ok());
  }
  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  rocksdb::ColumnFamilyHandle* cf(store::Family f) { return handles[static_cast<size_t>(f)]; }
};

// Rewrites a stored value as an attacker with the files could: reads (from, key),
// applies `edit` and writes the bytes to (to, to_key).
inline void TamperRaw(const std::string& dir, store::Family from, const std::string& key, store::Family to,
                      const std::string& to_key, const std::function<void(std::string&)>& edit = [](std::string&) {}) {
  RawDb raw(dir);
  std::string v;
  REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(from), key, &v).ok());
  edit(v);
  REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(to), to_key, v).ok());
}

}  // namespace casenode::testing
