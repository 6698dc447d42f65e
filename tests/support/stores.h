// A key store and a record store in a temporary directory, with a clock the
// test moves: the fixture of unit tests for parts built on the store.
#pragma once

#include <catch2/catch.hpp>

#include <memory>

#include "base/time.h"
#include "store/key_store.h"
#include "keys/master_key.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace casenode::testing {

struct Stores {
  TempDir dir;
  SystemTime now = *ParseRfc3339("2026-11-28T12:00:00Z", "t");
  std::unique_ptr<store::KeyStore> key_store;
  std::unique_ptr<store::Store> store;

  Stores() {
    REQUIRE(keys::MasterKey::CreateKeyFile(dir.path("master.key")).ok());
    auto ks = store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("master.key")));
    REQUIRE(ks.ok());
    key_store = *std::move(ks);
    auto st = store::Store::Open(dir.path("records"), *key_store, clock());
    REQUIRE(st.ok());
    store = *std::move(st);
  }
  Clock clock() {
    return [this] { return now; };
  }
};

}  // namespace casenode::testing
