#include <rocksdb/db.h>
#include <sodium.h>
#include <signal.h>
#include <sys/wait.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <random>
#include <functional>
#include <set>

#include "base/file.h"
#include "base/reason.h"
#include "store/store.h"
#include "tests/support/canary.h"
#include "tests/support/raw_db.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using namespace casenode::store;
using keys::DataKeyKind;
using keys::DataKeyRef;
using testing::RawDb;
using testing::TamperRaw;

namespace {

struct Fixture {
  TempDir dir;
  SystemTime now = *ParseRfc3339("2026-11-28T12:00:00Z", "t");
  std::unique_ptr<store::KeyStore> key_store;
  std::unique_ptr<Store> store;

  Fixture() {
    REQUIRE(keys::MasterKey::CreateKeyFile(dir.path("master.key")).ok());
    OpenKeys();
    Reopen();
  }
  void OpenKeys() {
    auto ks = store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("master.key")));
    REQUIRE(ks.ok());
    key_store = *std::move(ks);
  }
  Clock clock() {
    return [this] { return now; };
  }
  void Reopen(const std::string& records = "") {
    store.reset();
    auto s = Store::Open(records.empty() ? dir.path("records") : records, *key_store, clock());
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    store = *std::move(s);
  }
};

DataKeyRef StoreSubject(uint8_t n) {
  DataKeyRef r{DataKeyKind::kSubject, {}};
  r.id.fill(n);
  return r;
}

Record Rec(Family f, const std::string& key, uint8_t subject, const std::string& text) {
  return Record{f, key, StoreSubject(subject), text, std::nullopt};
}

}  // namespace

TEST_CASE("a record reads back as written", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Put(Rec(Family::kSignals, "k1", 1, "zorgsignaal")).ok());
  auto v = fx.store->Get(Family::kSignals, "k1");
  REQUIRE(v.ok());
  REQUIRE(*v == "zorgsignaal");
  REQUIRE(fx.store->Get(Family::kSignals, "nope").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(fx.store->Get(Family::kCases, "k1").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a sealed value fails to open under another record key", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Put(Rec(Family::kSignals, "k1", 1, "content")).ok());
  fx.store.reset();
  TamperRaw(fx.dir.path("records"), Family::kSignals, "k1", Family::kSignals, "k2");
  fx.Reopen();
  auto moved = fx.store->Get(Family::kSignals, "k2");
  REQUIRE(moved.status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(ReasonOf(moved.status()) == Reason::kRecordCorrupt);
  REQUIRE(moved.status().message().find("signals record failed authentication") != std::string::npos);
}

TEST_CASE("a sealed value fails to open in another column family", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Put(Rec(Family::kSignals, "k1", 1, "content")).ok());
  fx.store.reset();
  TamperRaw(fx.dir.path("records"), Family::kSignals, "k1", Family::kCases, "k1");
  fx.Reopen();
  REQUIRE(fx.store->Get(Family::kCases, "k1").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("a flipped ciphertext byte is DataLoss naming the record kind, not its content", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Put(Rec(Family::kConsents, "c", 1, "canary-Jansen-123456782")).ok());
  fx.store.reset();
  TamperRaw(fx.dir.path("records"), Family::kConsents, "c", Family::kConsents, "c",
            [](std::string& v) { v[v.size() - 20] ^= 0x01; });
  fx.Reopen();
  auto r = fx.store->Get(Family::kConsents, "c");
  REQUIRE(r.status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(r.status().message().find("consents record") != std::string::npos);
  REQUIRE(r.status().message().find("Jansen") == std::string::npos);
}

TEST_CASE("an altered expiry in the clear header fails to open", "[store]") {
  Fixture fx;
  Record r = Rec(Family::kSignals, "k", 1, "x");
  r.expires_at = fx.now + std::chrono::hours(1);
  REQUIRE(fx.store->Put(r).ok());
  fx.store.reset();
  TamperRaw(fx.dir.path("records"), Family::kSignals, "k", Family::kSignals, "k",
            [](std::string& v) { v[35] ^= 0x7f; });  // push the expiry far out
  fx.Reopen();
  REQUIRE(fx.store->Get(Family::kSignals, "k").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("expired records are never returned, and leave by sweep and by compaction", "[store]") {
  Fixture fx;
  Record soon = Rec(Family::kSignals, "soon", 1, "a");
  soon.expires_at = fx.now + std::chrono::hours(1);
  Record later = Rec(Family::kSignals, "later", 1, "b");
  later.expires_at = fx.now + std::chrono::days(30);
  Record also_soon = Rec(Family::kCases, "soon", 2, "c");
  also_soon.expires_at = fx.now + std::chrono::hours(1);
  REQUIRE(fx.store->Write(std::vector<Record>{soon, later, also_soon}).ok());
  REQUIRE(fx.store->Get(Family::kSignals, "soon").ok());

  fx.now += std::chrono::hours(2);
  REQUIRE(fx.store->Get(Family::kSignals, "soon").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(fx.store->Get(Family::kSignals, "later").ok());

  auto stats = fx.store->Sweep();
  REQUIRE(stats.ok());
  REQUIRE(stats->expired == 2);

  // The compaction filter alone also drops them.
  Record third = Rec(Family::kConsents, "c", 3, "d");
  third.expires_at = fx.now + std::chrono::minutes(1);
  REQUIRE(fx.store->Put(third).ok());
  fx.now += std::chrono::minutes(2);
  REQUIRE(fx.store->CompactAll().ok());
  fx.store.reset();
  RawDb raw(fx.dir.path("records"));
  std::string v;
  REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(Family::kConsents), "c", &v).IsNotFound());
  REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(Family::kSignals), "later", &v).ok());
}

TEST_CASE("shredding a subject makes its records unreadable, in a checkpoint taken before too", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Write(std::vector<Record>{Rec(Family::kSignals, "a1", 1, "subject one"), Rec(Family::kCases, "a2", 1, "one again"),
                           Rec(Family::kSignals, "b1", 2, "subject two")})
              .ok());
  REQUIRE(fx.store->Checkpoint(fx.dir.path("backup")).ok());
  REQUIRE(fx.key_store->Shred(StoreSubject(1)).ok());

  auto live = fx.store->Get(Family::kSignals, "a1");
  REQUIRE(live.status().code() == absl::StatusCode::kNotFound);
  REQUIRE(ReasonOf(live.status()) == Reason::kShredded);

  fx.Reopen(fx.dir.path("backup"));  // the old checkpoint, with the current keys
  REQUIRE(ReasonOf(fx.store->Get(Family::kSignals, "a1").status()) == Reason::kShredded);
  REQUIRE(ReasonOf(fx.store->Get(Family::kCases, "a2").status()) == Reason::kShredded);
  REQUIRE(*fx.store->Get(Family::kSignals, "b1") == "subject two");

  auto stats = fx.store->Sweep();
  REQUIRE(stats->shredded == 2);
}

TEST_CASE("a checkpoint holds no data keys", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Put(Rec(Family::kSignals, "a1", 1, "x")).ok());
  REQUIRE(fx.store->Checkpoint(fx.dir.path("backup")).ok());
  REQUIRE(fx.store->Checkpoint(fx.dir.path("backup")).code() == absl::StatusCode::kAlreadyExists);
  keys::DataKey dek;
  REQUIRE(fx.key_store->Get(StoreSubject(1), &dek).ok());
  const std::string dek_bytes(reinterpret_cast<const char*>(dek.data()), dek.size());
  REQUIRE(testing::FindCanaries(fx.dir.path("backup"), {dek_bytes}).empty());
}

TEST_CASE("a store written by a newer format version is refused", "[store]") {
  Fixture fx;
  fx.store.reset();
  {
    RawDb raw(fx.dir.path("records"));
    REQUIRE(raw.db->Put(rocksdb::WriteOptions(), "format", "2").ok());
  }
  auto s = Store::Open(fx.dir.path("records"), *fx.key_store, fx.clock());
  REQUIRE(s.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(ReasonOf(s.status()) == Reason::kNewerFormat);
}

TEST_CASE("canaries written to the store appear in no file of the data directory", "[store][canary]") {
  const std::vector<std::string> canaries = {"123456782", "Jansen-de-Vries", "zorgmelding-canary-77"};
  Fixture fx;
  for (int i = 0; i < 2000; ++i) {
    REQUIRE(fx.store->Put(Rec(Family::kSignals, "k" + std::to_string(i), static_cast<uint8_t>(i % 7),
                              "bsn 123456782 naam Jansen-de-Vries tekst zorgmelding-canary-77 #" + std::to_string(i)))
                .ok());
  }
  REQUIRE(fx.store->CompactAll().ok());  // SST files as well as the WAL
  fx.store.reset();
  fx.key_store.reset();
  const auto hits = testing::FindCanaries(fx.dir.root(), canaries);
  INFO(hits.size() << " hits, first: " << (hits.empty() ? "" : hits.front()));
  REQUIRE(hits.empty());
}

namespace {

// Runs a node's life on the key store and record store in `dir` (records for
// several subjects, a shred, a KEK rotation, a sweep, a checkpoint, a sealed
// file, compaction), closes both, and returns every canary hit under the
// directories the node wrote. `raw_master` and `text_master` are the master
// key as raw bytes and as written in a key file (empty for a passphrase).
std::vector<std::string> MasterKeyHits(const std::string& dir, keys::MasterKey master, const std::string& raw_master,
                                       const std::string& text_master) {
  const SystemTime now = *ParseRfc3339("2026-11-28T12:00:00Z", "t");
  const Bytes sealed = master.Seal("node-identity", AsBytes(std::string_view("identity key material")));
  std::error_code ec;
  std::filesystem::create_directories(dir + "/sealed", ec);
  REQUIRE(WriteFileAtomic(dir + "/sealed/identity.sealed", sealed, 0600).ok());
  std::string raw_dek;
  {
    auto ks = store::KeyStore::Open(dir + "/keys", std::move(master));
    REQUIRE(ks.ok());
    auto store = Store::Open(dir + "/records", **ks, [now] { return now; });
    REQUIRE(store.ok());
    for (int i = 0; i < 500; ++i) {
      REQUIRE((*store)->Put(Rec(Family::kSignals, "k" + std::to_string(i), static_cast<uint8_t>(i % 5), "payload")).ok());
    }
    keys::DataKey dek;
    REQUIRE((*ks)->Get(StoreSubject(2), &dek).ok());
    raw_dek.assign(reinterpret_cast<const char*>(dek.data()), dek.size());
    REQUIRE((*ks)->Shred(StoreSubject(1)).ok());
    REQUIRE((*ks)->RotateKek().ok());
    REQUIRE((*store)->Sweep().ok());
    REQUIRE((*store)->Checkpoint(dir + "/backup").ok());
    REQUIRE((*store)->CompactAll().ok());
  }
  std::vector<std::string> canaries = {raw_master, raw_dek};
  if (!text_master.empty()) canaries.push_back(text_master);
  std::vector<std::string> hits;
  for (const std::string sub : {"/keys", "/records", "/backup", "/sealed"}) {
    for (auto& h : testing::FindCanaries(dir + sub, canaries)) hits.push_back(h);
  }
  return hits;
}

}  // namespace

TEST_CASE("the master key, raw or in base64, is in no file the node writes", "[store][canary]") {
  TempDir dir;
  REQUIRE(keys::MasterKey::CreateKeyFile(dir.path("master.key")).ok());
  std::string text = *ReadFile(dir.path("master.key"));
  text.pop_back();  // newline
  auto raw = Base64Decode(text, "master.key");
  REQUIRE(raw.ok());
  REQUIRE(raw->size() == 32);
  const std::string raw_master(raw->begin(), raw->end());
  const auto hits = MasterKeyHits(dir.root(), *keys::MasterKey::FromKeyFile(dir.path("master.key")), raw_master, text);
  INFO(hits.size() << " hits, first: " << (hits.empty() ? "" : hits.front()));
  REQUIRE(hits.empty());
  // The scan does find raw bytes (NULs and all) where they are.
  REQUIRE(WriteFileAtomic(dir.path("keys/planted"), raw_master, 0600).ok());
  REQUIRE(testing::FindCanaries(dir.path("keys"), {raw_master}).size() == 1);
}

TEST_CASE("a passphrase-derived master key is in no file the node writes", "[store][canary]") {
  TempDir dir;
  const keys::KdfParams params = keys::KdfParams::NewArgon2id(1, 8 * 1024);  // fast limits for tests
  const keys::SecretBytes pass = keys::SecretBytes::CopyFrom(std::string_view("canary passphrase"));
  // The derived key, computed here independently of MasterKey.
  std::string raw(32, '\0');
  REQUIRE(crypto_pwhash(reinterpret_cast<uint8_t*>(raw.data()), raw.size(), reinterpret_cast<const char*>(pass.data()),
                        pass.size(), params.salt.data(), params.opslimit, size_t{params.memlimit_kib} * 1024,
                        crypto_pwhash_ALG_ARGON2ID13) == 0);
  auto master = keys::MasterKey::FromPassphrase(pass, params);
  REQUIRE(master.ok());
  const auto hits = MasterKeyHits(dir.root(), *std::move(master), raw, "");
  INFO(hits.size() << " hits, first: " << (hits.empty() ? "" : hits.front()));
  REQUIRE(hits.empty());
}

TEST_CASE("acknowledged writes survive SIGKILL at a random moment", "[store][fault]") {
  std::mt19937 rng(20261128);
  for (int round = 0; round < 4; ++round) {
    DYNAMIC_SECTION("round " << round) {
      Fixture fx;
      fx.store.reset();
      fx.key_store.reset();  // the child opens both stores itself, as a real node process does
      int pipe_fds[2];
      REQUIRE(::pipe(pipe_fds) == 0);
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::close(pipe_fds[0]);
        auto ks = store::KeyStore::Open(fx.dir.path("keys"), *keys::MasterKey::FromKeyFile(fx.dir.path("master.key")));
        if (!ks.ok()) _exit(3);
        auto s = Store::Open(fx.dir.path("records"), **ks, fx.clock());
        if (!s.ok()) _exit(3);
        for (uint32_t i = 0; i < 10000; ++i) {
          if (!(*s)->Put(Rec(Family::kSignals, "rec" + std::to_string(i), static_cast<uint8_t>(i % 13),
                             "payload " + std::to_string(i)))
                   .ok()) {
            _exit(4);
          }
          if (::write(pipe_fds[1], &i, sizeof i) != sizeof i) _exit(5);  // acknowledge
        }
        _exit(0);
      }
      ::close(pipe_fds[1]);
      const uint32_t kill_after = 200 + rng() % 3000;
      std::set<uint32_t> acked;
      uint32_t i = 0;
      while (acked.size() < kill_after && ::read(pipe_fds[0], &i, sizeof i) == sizeof i) acked.insert(i);
      ::kill(pid, SIGKILL);
      while (::read(pipe_fds[0], &i, sizeof i) == sizeof i) acked.insert(i);  // acks already in the pipe
      ::close(pipe_fds[0]);
      int status = 0;
      REQUIRE(::waitpid(pid, &status, 0) == pid);
      REQUIRE(WIFSIGNALED(status));

      fx.OpenKeys();
      fx.Reopen();
      for (uint32_t k : acked) {
        auto v = fx.store->Get(Family::kSignals, "rec" + std::to_string(k));
        INFO("record " << k << ": " << v.status().ToString());
        REQUIRE(v.ok());
        REQUIRE(*v == "payload " + std::to_string(k));
      }
    }
  }
}

TEST_CASE("a full disk is a clear ResourceExhausted error and acknowledged records stay readable", "[store][fault]") {
  // A child in its own mount namespace writes to a 4 MiB tmpfs until it is full.
  // Exit codes: 0 = behaved, 10+ = a specific check failed (see below).
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(10);
    char tmpl[] = "/tmp/casenode-full-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr || ::mount("tmpfs", tmpl, "tmpfs", 0, "size=4m") != 0) _exit(11);
    const std::string dir = tmpl;
    if (!keys::MasterKey::CreateKeyFile(dir + "/m.key").ok()) _exit(12);
    auto ks = store::KeyStore::Open(dir + "/keys", *keys::MasterKey::FromKeyFile(dir + "/m.key"));
    if (!ks.ok()) _exit(13);
    auto store = Store::Open(dir + "/records", **ks, SystemNow);
    if (!store.ok()) _exit(14);
    const std::string big(4096, 'x');
    absl::Status s;
    int written = 0;
    for (; written < 100000; ++written) {
      s = (*store)->Put(Rec(Family::kSignals, "r" + std::to_string(written), 1, big));
      if (!s.ok()) break;
    }
    if (s.ok() || written == 0) _exit(15);
    if (s.code() != absl::StatusCode::kResourceExhausted || ReasonOf(s) != Reason::kDiskFull) _exit(16);
    if (s.message().find("disk full") == absl::string_view::npos) _exit(17);
    auto first = (*store)->Get(Family::kSignals, "r0");
    if (!first.ok() || *first != big) _exit(18);
    _exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  INFO("child exit code (10-14: setup, 15: never filled, 16-17: wrong error, 18: lost a record)");
  REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("a shred waits for writes in progress: no record is left sealed under a destroyed key", "[store]") {
  Fixture fx;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<int> failed{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      if (!fx.store->Put(Rec(Family::kSignals, "w" + std::to_string(i), 7, "text"), Durability::kBuffered).ok()) ++failed;
      ++written;
    }
  });
  for (int round = 0; round < 20; ++round) {
    const int before = written.load();
    while (written.load() < before + 20) std::this_thread::yield();
    REQUIRE(fx.store->Shred(StoreSubject(7)).ok());
  }
  stop = true;
  writer.join();
  REQUIRE(failed == 0);
  int corrupt = 0, readable = 0, shredded = 0;
  REQUIRE(fx.store->Scan(Family::kSignals, "w", [&](std::string_view, const absl::StatusOr<std::string>& v) {
    if (v.ok()) ++readable;
    else if (ReasonOf(v.status()) == Reason::kShredded) ++shredded;
    else if (ReasonOf(v.status()) == Reason::kRecordCorrupt) ++corrupt;
  }).ok());
  INFO("readable " << readable << ", shredded " << shredded);
  REQUIRE(corrupt == 0);
  REQUIRE(shredded > 0);
}

TEST_CASE("one write under alternating data keys seals each record under its own", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->Write(std::vector<Record>{Rec(Family::kSignals, "a1", 1, "one"), Rec(Family::kSignals, "b1", 2, "two"),
                                              Rec(Family::kSignals, "a2", 1, "one again"),
                                              Rec(Family::kSignals, "b2", 2, "two again")})
              .ok());
  // Each reads back (a record sealed under another subject's key, or naming
  // another key's id, would read as shredded) ...
  REQUIRE(*fx.store->Get(Family::kSignals, "a1") == "one");
  REQUIRE(*fx.store->Get(Family::kSignals, "b1") == "two");
  REQUIRE(*fx.store->Get(Family::kSignals, "a2") == "one again");
  REQUIRE(*fx.store->Get(Family::kSignals, "b2") == "two again");
  // ... and goes with its own subject's key only.
  REQUIRE(fx.key_store->Shred(StoreSubject(1)).ok());
  REQUIRE(ReasonOf(fx.store->Get(Family::kSignals, "a1").status()) == Reason::kShredded);
  REQUIRE(ReasonOf(fx.store->Get(Family::kSignals, "a2").status()) == Reason::kShredded);
  REQUIRE(*fx.store->Get(Family::kSignals, "b1") == "two");
  REQUIRE(*fx.store->Get(Family::kSignals, "b2") == "two again");
}
