#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "base/reason.h"
#include "store/key_store.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using namespace casenode::keys;
using namespace casenode::store;

namespace {

MasterKey NewMaster(const TempDir& dir, const std::string& name = "m.key") {
  if (!std::filesystem::exists(dir.path(name))) REQUIRE(MasterKey::CreateKeyFile(dir.path(name)).ok());
  return *MasterKey::FromKeyFile(dir.path(name));
}

DataKeyRef Subject(uint8_t n) {
  DataKeyRef r{DataKeyKind::kSubject, {}};
  r.id.fill(n);
  return r;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    files[e.path().string()] = std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return files;
}

}  // namespace

TEST_CASE("data keys are created once and survive reopening", "[key_store]") {
  TempDir dir;
  DataKey first{}, again{};
  {
    auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
    REQUIRE(ks.ok());
    REQUIRE((*ks)->GetOrCreate(Subject(1), &first).ok());
    REQUIRE((*ks)->GetOrCreate(Subject(1), &again).ok());
    REQUIRE(first.Equals(again));
  }
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  REQUIRE(ks.ok());
  REQUIRE((*ks)->Get(Subject(1), &again).ok());
  REQUIRE(first.Equals(again));
}

TEST_CASE("a wrong master key is refused and changes nothing", "[key_store]") {
  TempDir dir;
  {
    auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
    DataKey k;
    REQUIRE((*ks)->GetOrCreate(Subject(1), &k).ok());
  }
  const auto before = Snapshot(dir.path("keys"));
  auto wrong = KeyStore::Open(dir.path("keys"), NewMaster(dir, "other.key"));
  REQUIRE(wrong.status().code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(ReasonOf(wrong.status()) == Reason::kWrongMasterKey);
  // RocksDB rewrites its LOG and OPTIONS files on open; the data itself must not change.
  auto after = Snapshot(dir.path("keys"));
  for (const auto& [path, bytes] : before) {
    const std::string name = std::filesystem::path(path).filename().string();
    if (name.starts_with("LOG") || name.starts_with("OPTIONS") || name == "LOCK") continue;
    INFO(path);
    REQUIRE(after.contains(path));
    REQUIRE(after[path] == bytes);
  }
}

TEST_CASE("a shredded data key is gone for good, with a specific error", "[key_store]") {
  TempDir dir;
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  DataKey k;
  REQUIRE((*ks)->GetOrCreate(Subject(1), &k).ok());
  REQUIRE((*ks)->GetOrCreate(Subject(2), &k).ok());
  REQUIRE((*ks)->Shred(Subject(1)).ok());
  absl::Status s = (*ks)->Get(Subject(1), &k);
  REQUIRE(s.code() == absl::StatusCode::kNotFound);
  REQUIRE(ReasonOf(s) == Reason::kShredded);
  REQUIRE((*ks)->Get(Subject(2), &k).ok());
  REQUIRE((*ks)->Shred(Subject(1)).ok());  // idempotent
}

TEST_CASE("GetOrCreate after a Shred makes a new key", "[key_store]") {
  TempDir dir;
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  DataKey before, after;
  REQUIRE((*ks)->GetOrCreate(Subject(1), &before).ok());
  REQUIRE((*ks)->Shred(Subject(1)).ok());
  REQUIRE((*ks)->GetOrCreate(Subject(1), &after).ok());
  REQUIRE_FALSE(after.Equals(before));
  DataKey again;
  REQUIRE((*ks)->Get(Subject(1), &again).ok());
  REQUIRE(again.Equals(after));
}

TEST_CASE("subject handles are keyed per node", "[key_store]") {
  TempDir a, b;
  auto ka = KeyStore::Open(a.path("keys"), NewMaster(a));
  auto kb = KeyStore::Open(b.path("keys"), NewMaster(b));
  const std::string p = "pseudonym-bytes";
  REQUIRE((*ka)->SubjectHandle(AsBytes(p)) == (*ka)->SubjectHandle(AsBytes(p)));
  REQUIRE((*ka)->SubjectHandle(AsBytes(p)) != (*kb)->SubjectHandle(AsBytes(p)));
}

TEST_CASE("rotation makes a new KEK and keeps every data key", "[key_store]") {
  TempDir dir;
  std::vector<DataKey> keys(2500);
  {
    auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
    for (size_t i = 0; i < keys.size(); ++i) {
      DataKeyRef r{DataKeyKind::kCase, {}};
      std::memcpy(r.id.data(), &i, sizeof i);
      REQUIRE((*ks)->GetOrCreate(r, &keys[i]).ok());
    }
    std::vector<int> steps;
    auto id = (*ks)->RotateKek([&](int step) { steps.push_back(step); });
    REQUIRE(id.ok());
    REQUIRE(*id == 2);
    REQUIRE(steps == std::vector<int>{1, 2, 3, 4});
    REQUIRE((*ks)->kek_count() == 1);
  }
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  REQUIRE((*ks)->active_kek() == 2);
  for (size_t i = 0; i < keys.size(); ++i) {
    DataKeyRef r{DataKeyKind::kCase, {}};
    std::memcpy(r.id.data(), &i, sizeof i);
    DataKey k;
    REQUIRE((*ks)->Get(r, &k).ok());
    REQUIRE(k.Equals(keys[i]));
  }
}

TEST_CASE("rotation killed with SIGKILL after each step still opens with every data key", "[key_store][fault]") {
  for (int crash_step = 1; crash_step <= 4; ++crash_step) {
    DYNAMIC_SECTION("SIGKILL after step " << crash_step) {
      TempDir dir;
      std::vector<DataKey> keys(1500);
      {
        auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
        for (size_t i = 0; i < keys.size(); ++i) {
          DataKeyRef r{DataKeyKind::kSubject, {}};
          std::memcpy(r.id.data(), &i, sizeof i);
          REQUIRE((*ks)->GetOrCreate(r, &keys[i]).ok());
        }
      }
      const pid_t pid = ::fork();
      if (pid == 0) {
        auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
        if (!ks.ok()) _exit(3);
        (void)(*ks)->RotateKek([&](int step) {
          if (step == crash_step) ::raise(SIGKILL);
        });
        _exit(4);  // not reached
      }
      int status = 0;
      REQUIRE(::waitpid(pid, &status, 0) == pid);
      REQUIRE(WIFSIGNALED(status));
      REQUIRE(WTERMSIG(status) == SIGKILL);

      auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
      REQUIRE(ks.ok());
      REQUIRE((*ks)->kek_count() == 1);  // an interrupted rotation is finished on open
      for (size_t i = 0; i < keys.size(); ++i) {
        DataKeyRef r{DataKeyKind::kSubject, {}};
        std::memcpy(r.id.data(), &i, sizeof i);
        DataKey k;
        REQUIRE((*ks)->Get(r, &k).ok());
        REQUIRE(k.Equals(keys[i]));
      }
    }
  }
}

namespace {

DataKeyRef Numbered(DataKeyKind kind, uint32_t n) {
  DataKeyRef r{kind, {}};
  std::memcpy(r.id.data(), &n, sizeof n);
  return r;
}

// Creates `count` data keys, shredding `shred` right after it is created, then
// reads every key back `rounds` times (as a sweep does) and checks that each
// read gives that key's own bytes, or SHREDDED for the shredded one.
void CheckEveryGetReturnsItsOwnKey(KeyStore& ks, uint32_t count, uint32_t shred, int rounds) {
  std::vector<DataKey> created(count);
  for (uint32_t i = 0; i < count; ++i) {
    const absl::Status s = ks.GetOrCreate(Numbered(DataKeyKind::kSubject, i), &created[i]);
    INFO(i << ": " << s.ToString());
    REQUIRE(s.ok());
    if (i == shred) REQUIRE(ks.Shred(Numbered(DataKeyKind::kSubject, i)).ok());
  }
  size_t wrong = 0, failed = 0;
  for (int round = 0; round < rounds; ++round) {
    for (uint32_t i = 0; i < count; ++i) {
      DataKey k;
      const absl::Status s = ks.Get(Numbered(DataKeyKind::kSubject, i), &k);
      if (i == shred) {
        if (ReasonOf(s) != Reason::kShredded) ++failed;
      } else if (!s.ok()) {
        ++failed;
      } else if (!k.Equals(created[i])) {
        ++wrong;
      }
    }
  }
  REQUIRE(failed == 0);
  REQUIRE(wrong == 0);
}

}  // namespace

TEST_CASE("the data key cache hands out each subject's own key after a shred and a wrap-around", "[key_store]") {
  TempDir dir;
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir), KeyStoreOptions{.cache_capacity = 8});
  REQUIRE(ks.ok());
  // 4 * capacity + 1 keys: the cache fills, a slot is freed by the shred, and
  // eviction wraps around it several times.
  CheckEveryGetReturnsItsOwnKey(**ks, 33, 4, 3);
}

TEST_CASE("at the real cache capacity, 65,537 data keys with one shred each read back as their own", "[key_store]") {
  // 65,537 synced creates take about 4 minutes on a disk and about a second on
  // tmpfs; the code path (a synced put each) is the same.
  const bool shm = std::filesystem::is_directory("/dev/shm");
  TempDir dir(shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path());
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  REQUIRE(ks.ok());
  CheckEveryGetReturnsItsOwnKey(**ks, (uint32_t{1} << 16) + 1, 1000, 2);
}

TEST_CASE("a cache capacity of zero is refused", "[key_store]") {
  TempDir dir;
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir), KeyStoreOptions{.cache_capacity = 0});
  REQUIRE(ks.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("after Shred returns, no Get or GetOrCreate hands out the shredded key", "[key_store]") {
  // One shredder, two readers and one creator race on one subject. The
  // shredder records each key it shreds with a sequence number once Shred has
  // returned; a call that began after that (its sequence number read before
  // the call) must never return those bytes. A Get may still find a key: a
  // NEW one, recreated by the creator meanwhile.
  TempDir dir(std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                         : std::filesystem::temp_directory_path());
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  REQUIRE(ks.ok());
  KeyStore& store = **ks;
  const DataKeyRef ref = Subject(7);
  // Each Shred flushes and compacts (~20 ms even on tmpfs), so 500 rounds take
  // about 10 s; the racy cache failed within 10 rounds in 7 runs out of 8.
  constexpr int kIterations = 500;

  std::mutex shredded_mu;
  std::map<std::array<uint8_t, 32>, uint64_t> shredded;  // key bytes -> sequence number of its shred
  std::atomic<uint64_t> seq{0};
  std::atomic<bool> done{false};
  std::atomic<int> stale{0}, errors{0}, recreated{0};
  auto bytes = [](const DataKey& k) {
    std::array<uint8_t, 32> a{};
    std::memcpy(a.data(), k.data(), a.size());
    return a;
  };
  // Checks a key returned by a call that began when `before` shreds had returned.
  auto check = [&](const DataKey& k, uint64_t before) {
    std::lock_guard<std::mutex> lock(shredded_mu);
    auto it = shredded.find(bytes(k));
    if (it != shredded.end() && it->second < before) ++stale;
  };
  auto reader = [&](bool create) {
    while (!done.load()) {
      const uint64_t before = seq.load();
      DataKey k;
      const absl::Status s = create ? store.GetOrCreate(ref, &k) : store.Get(ref, &k);
      if (s.ok()) {
        check(k, before);
      } else if (create || ReasonOf(s) != Reason::kShredded) {
        ++errors;
      }
      std::this_thread::yield();  // two cores: leave the shredder its share
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(reader, false);
  threads.emplace_back(reader, false);
  threads.emplace_back(reader, true);

  for (int i = 0; i < kIterations && errors.load() == 0; ++i) {
    DataKey current;
    if (!store.GetOrCreate(ref, &current).ok()) ++errors;
    // Only this thread shreds, so `current` is the key on disk until Shred.
    if (!store.Shred(ref).ok()) ++errors;
    {
      std::lock_guard<std::mutex> lock(shredded_mu);
      shredded.emplace(bytes(current), seq.load());
      seq.fetch_add(1);
    }
    DataKey after;
    const absl::Status s = store.Get(ref, &after);
    if (s.ok()) {
      ++recreated;
      check(after, seq.load());
    } else if (ReasonOf(s) != Reason::kShredded) {
      ++errors;
    }
  }
  done = true;
  for (auto& t : threads) t.join();
  INFO(recreated.load() << " of " << kIterations << " Gets right after a Shred found a recreated key");
  REQUIRE(errors.load() == 0);
  REQUIRE(stale.load() == 0);
}

namespace {
// Writes `key` = `value` into a closed key store with plain RocksDB, as
// corruption or an attacker with the files would.
void RawPut(const std::string& dir, const std::string& key, const std::string& value) {
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir, &db).ok());
  std::unique_ptr<rocksdb::DB> owned(db);
  rocksdb::WriteOptions w;
  w.sync = true;
  REQUIRE(db->Put(w, key, value).ok());
}
std::string RawGet(const std::string& dir, const std::string& key) {
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, &db).ok());
  std::unique_ptr<rocksdb::DB> owned(db);
  std::string value;
  REQUIRE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
  return value;
}
}  // namespace

TEST_CASE("a malformed value in the key store is DATA_LOSS naming the entry, never a read past its end", "[key_store]") {
  TempDir dir;
  {
    auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
    REQUIRE(ks.ok());
  }
  const std::string kek1 = std::string("kek/") + std::string("\0\0\0\1", 4);
  std::string key, value, field;
  SECTION("a 1-byte kek-active") {
    key = "kek-active", value = std::string(1, '\1'), field = "kek-active";
  }
  SECTION("a 5-byte kek-active") {
    key = "kek-active", value = std::string("\0\0\0\1\0", 5), field = "kek-active";
  }
  SECTION("a KEK under a 1-byte id") {
    key = "kek/\1", value = RawGet(dir.path("keys"), kek1), field = "kek/";
  }
  RawPut(dir.path("keys"), key, value);
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  INFO(ks.status().ToString());
  REQUIRE(ks.status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(ReasonOf(ks.status()) == Reason::kStoreCorrupt);
  REQUIRE(ks.status().message().find(field) != std::string::npos);
}

TEST_CASE("counters only rise, survive reopening, and cannot be deleted unnoticed", "[key_store]") {
  TempDir dir;
  {
    auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
    REQUIRE(ks.ok());
    REQUIRE(*(*ks)->GetCounter("manifest-version") == std::nullopt);
    REQUIRE((*ks)->RaiseCounter("manifest-version", 3).ok());
    REQUIRE((*ks)->RaiseCounter("manifest-version", 2).ok());  // never lowered
    REQUIRE(**(*ks)->GetCounter("manifest-version") == 3u);
  }
  {
    auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
    REQUIRE(ks.ok());
    REQUIRE(**(*ks)->GetCounter("manifest-version") == 3u);
  }
  // An attacker with the files but not the master key deletes the entry to
  // reset the floor: the store refuses to open instead of starting from zero.
  {
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir.path("keys"), &db).ok());
    std::unique_ptr<rocksdb::DB> owned(db);
    rocksdb::WriteOptions w;
    w.sync = true;
    REQUIRE(db->Delete(w, "counters").ok());
  }
  auto ks = KeyStore::Open(dir.path("keys"), NewMaster(dir));
  REQUIRE(ks.status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(ReasonOf(ks.status()) == Reason::kStoreCorrupt);
  REQUIRE(ks.status().message().find("counters") != std::string::npos);
}
