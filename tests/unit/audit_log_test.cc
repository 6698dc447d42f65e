// The node's audit log on a real store: sequence numbers, leaf bytes, the
// tree state across reopen, proofs against the committed head, concurrent
// writers, and kill -9 in the middle of appends.
#include "node/audit/audit_log.h"
#include "node/audit/consent_state.h"
#include "node/audit/problems.h"
#include "node/audit/reconcile.h"
#include "node/audit/replay.h"
#include "node/audit/subject_seal.h"
#include "node/audit/witness.h"
#include "base/encoding.h"
#include "base/reason.h"
#include "base/strings.h"
#include "policy/policy.h"
#include "tlog/note.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <thread>

#include "keys/master_key.h"
#include "tests/support/raw_db.h"
#include "tests/support/stores.h"

namespace casenode {
namespace {


v1::AuditEntry PolicyEvent(const std::string& hash) {
  v1::AuditEntry e;
  e.set_trace_id(std::string(32, 'a'));
  e.mutable_policy_load()->set_policy_hash(hash);
  return e;
}

// Every entry of the log, checked against its head as an auditor would:
// seq equals position, and the root of all leaves is the head's root.
void RequireConsistent(const node::AuditLog& log) {
  const auto head = log.head();
  std::vector<tlog::Hash> leaves;
  for (uint64_t i = 0; i < head.size; ++i) {
    auto bytes = log.Entry(i);
    REQUIRE(bytes.ok());
    v1::AuditEntry e;
    REQUIRE(e.ParseFromString(*bytes));
    REQUIRE(e.seq() == i);
    // The leaf bytes are protobuf's own encoding (seq first, always present).
    std::string again;
    REQUIRE(e.SerializeToString(&again));
    if (i > 0) REQUIRE(again == *bytes);
    leaves.push_back(tlog::LeafHash(*bytes));
  }
  REQUIRE(tlog::RootOf(leaves) == head.root);
}

TEST_CASE("audit log: entries get consecutive sequence numbers and every proof verifies against the head",
          "[audit]") {
  testing::Stores s;
  int64_t now_ms = 1'800'000'000'000;
  auto log = node::AuditLog::Open(*s.store, [&] { return now_ms; });
  REQUIRE(log.ok());
  REQUIRE((*log)->head().size == 0);
  REQUIRE((*log)->head().root == tlog::EmptyRoot());
  for (int i = 0; i < 37; ++i) {
    REQUIRE((*log)->Append(PolicyEvent("p" + std::to_string(i)), store::Durability::kSynced).ok());
  }
  REQUIRE((*log)->head().size == 37);
  RequireConsistent(**log);
  auto first = (*log)->Entry(0);
  REQUIRE(first.ok());
  v1::AuditEntry e0;
  REQUIRE(e0.ParseFromString(*first));
  REQUIRE(e0.time_unix_ms() == now_ms);
  REQUIRE(e0.policy_load().policy_hash() == "p0");
  REQUIRE((*log)->Entry(37).status().code() == absl::StatusCode::kOutOfRange);

  const auto head = (*log)->head();
  for (uint64_t i = 0; i < head.size; ++i) {
    auto proof = (*log)->InclusionProof(i, head.size);
    REQUIRE(proof.ok());
    REQUIRE(tlog::VerifyInclusion(i, head.size, tlog::LeafHash(*(*log)->Entry(i)), *proof, head.root));
  }
  REQUIRE((*log)->InclusionProof(0, 38).status().code() == absl::StatusCode::kOutOfRange);
  REQUIRE_FALSE((*log)->Append(v1::AuditEntry{}, store::Durability::kSynced).ok());  // no event
  REQUIRE((*log)->head().size == 37);
}

TEST_CASE("an entry's sealed subject opens only for its child, differs every time, and not after shredding",
          "[audit]") {
  testing::Stores s;
  std::array<uint8_t, 32> child{}, other{};
  child.fill(0xc0);
  other.fill(0x0f);
  auto a1 = node::SealSubject(*s.key_store, child);
  auto a2 = node::SealSubject(*s.key_store, child);
  auto b = node::SealSubject(*s.key_store, other);
  REQUIRE(a1.ok());
  REQUIRE(a2.ok());
  REQUIRE(b.ok());
  REQUIRE(a1->size() == node::kSealedSubjectBytes);
  REQUIRE(*a1 != *a2);  // a fresh nonce: two entries about one child do not link
  REQUIRE(a1->find(std::string(child.begin(), child.end())) == std::string::npos);
  auto matcher = node::SubjectMatcher::For(*s.key_store, child);
  REQUIRE(matcher.ok());
  REQUIRE(matcher->Matches(*a1));
  REQUIRE(matcher->Matches(*a2));
  REQUIRE_FALSE(matcher->Matches(*b));
  REQUIRE_FALSE(matcher->Matches(""));
  std::string flipped = *a1;
  flipped[40] ^= 1;
  REQUIRE_FALSE(matcher->Matches(flipped));

  // Shredded: nothing opens any more, and a new key does not open the old seals.
  REQUIRE(s.store->Shred(keys::DataKeyRef{keys::DataKeyKind::kSubject, s.key_store->SubjectHandle(child)}).ok());
  REQUIRE(node::SubjectMatcher::For(*s.key_store, child).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(node::SealSubject(*s.key_store, child).ok());
  auto renewed = node::SubjectMatcher::For(*s.key_store, child);
  REQUIRE(renewed.ok());
  REQUIRE_FALSE(renewed->Matches(*a1));
}

TEST_CASE("audit log: the tree survives a reopen and grows consistently with what was signed before", "[audit]") {
  testing::Stores s;
  node::AuditLog::Head old_head;
  {
    auto log = node::AuditLog::Open(*s.store);
    REQUIRE(log.ok());
    for (int i = 0; i < 11; ++i) REQUIRE((*log)->Append(PolicyEvent("a"), store::Durability::kSynced).ok());
    // A buffered entry is written at the latest when the log closes.
    REQUIRE((*log)->Append(PolicyEvent("buffered"), store::Durability::kBuffered).ok());
    old_head = (*log)->head();
  }
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE(log.ok());
  REQUIRE((*log)->head().size == 12);
  for (int i = 0; i < 22; ++i) REQUIRE((*log)->Append(PolicyEvent("b"), store::Durability::kSynced).ok());
  RequireConsistent(**log);
  const auto head = (*log)->head();
  for (uint64_t old_size = 0; old_size <= head.size; ++old_size) {
    auto proof = (*log)->ConsistencyProof(old_size, head.size);
    REQUIRE(proof.ok());
    std::vector<tlog::Hash> leaves;
    for (uint64_t i = 0; i < old_size; ++i) leaves.push_back(tlog::LeafHash(*(*log)->Entry(i)));
    REQUIRE(tlog::VerifyConsistency(old_size, head.size, tlog::RootOf(leaves), head.root, *proof));
  }
  auto proof = (*log)->ConsistencyProof(old_head.size - 1, head.size);
  REQUIRE(proof.ok());
  REQUIRE_FALSE(tlog::VerifyConsistency(old_head.size - 1, head.size, old_head.root, head.root, *proof));
}

// Every inclusion proof of every tree up to the head, and every consistency
// proof into the head, checked against the leaves themselves.
void RequireAllProofs(const node::AuditLog& log) {
  const auto head = log.head();
  std::vector<tlog::Hash> leaves;
  for (uint64_t i = 0; i < head.size; ++i) leaves.push_back(tlog::LeafHash(*log.Entry(i)));
  for (uint64_t size = 1; size <= head.size; ++size) {
    const tlog::Hash root = tlog::RootOf(std::span(leaves).first(size));
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = log.InclusionProof(i, size);
      REQUIRE(proof.ok());
      REQUIRE(tlog::VerifyInclusion(i, size, leaves[i], *proof, root));
    }
    auto consistency = log.ConsistencyProof(size, head.size);
    REQUIRE(consistency.ok());
    REQUIRE(tlog::VerifyConsistency(size, head.size, root, head.root, *consistency));
  }
}

std::string Key(char prefix, uint64_t n) {
  std::string k(1, prefix);
  AppendU64(k, n);
  return k;
}

// Every inclusion proof at the head, and every consistency proof into it:
// O(size) proofs, for logs too long for RequireAllProofs.
void RequireHeadProofs(const node::AuditLog& log) {
  const auto head = log.head();
  std::vector<tlog::Hash> leaves;
  for (uint64_t i = 0; i < head.size; ++i) leaves.push_back(tlog::LeafHash(*log.Entry(i)));
  tlog::Frontier prefix;  // the tree of the first i + 1 leaves
  for (uint64_t i = 0; i < head.size; ++i) {
    auto proof = log.InclusionProof(i, head.size);
    REQUIRE(proof.ok());
    REQUIRE(tlog::VerifyInclusion(i, head.size, leaves[i], *proof, head.root));
    prefix.Append(leaves[i], [](tlog::NodeId, const tlog::Hash&) {});
    auto consistency = log.ConsistencyProof(i + 1, head.size);
    REQUIRE(consistency.ok());
    REQUIRE(tlog::VerifyConsistency(i + 1, head.size, prefix.Root(), head.root, *consistency));
  }
}

// Keys of the audit family under `prefix`.
std::vector<std::string> AuditKeys(store::Store& store, std::string_view prefix) {
  std::vector<std::string> keys;
  REQUIRE(store
              .Scan(store::Family::kAudit, prefix,
                    [&](std::string_view key, const absl::StatusOr<std::string>&) {
                      keys.emplace_back(key);
                      return true;
                    })
              .ok());
  return keys;
}

// A log of `size` entries in the layout written before blocks, as that
// version wrote it: every tree level from 1, level 1 as its two leaf hashes.
// Returns the leaf hashes.
std::vector<tlog::Hash> WriteLogBeforeBlocks(store::Store& store, uint64_t size) {
  tlog::Frontier frontier;
  std::vector<tlog::Hash> leaves;
  std::vector<store::Record> records;
  for (uint64_t seq = 0; seq < size; ++seq) {
    v1::AuditEntry e = PolicyEvent("old" + std::to_string(seq));
    e.set_time_unix_ms(1);
    const std::string leaf = node::LeafBytes(seq, e.SerializeAsString());
    const tlog::Hash h = tlog::LeafHash(leaf);
    const tlog::Hash left = (seq & 1) != 0 ? leaves.back() : tlog::Hash{};
    frontier.Append(h, [&](tlog::NodeId id, const tlog::Hash& node) {
      if (id.level == 0) return;
      std::string key = "n";
      key.push_back(static_cast<char>(id.level));
      AppendU64(key, id.index);
      std::string value = id.level == 1 ? std::string(left.begin(), left.end()) + std::string(h.begin(), h.end())
                                        : std::string(node.begin(), node.end());
      records.push_back(node::AuditRecord(std::move(key), std::move(value)));
    });
    leaves.push_back(h);
    records.push_back(node::AuditRecord(Key('e', seq), leaf));
  }
  records.push_back(node::AuditRecord("s", frontier.Encode()));
  REQUIRE(store.Write(records, store::Durability::kSynced).ok());
  return leaves;
}

TEST_CASE("audit log: blocks of 16 leaf hashes replace the tree's lowest levels, and every proof verifies at every "
          "size across reopens",
          "[audit]") {
  testing::Stores s;
  // Reopened at sizes 0, 7, 14, ..., 112: 7 is prime to 16, so every offset
  // in a block, and a full block (112) once more.
  for (int round = 0; round < 17; ++round) {
    auto log = node::AuditLog::Open(*s.store);
    REQUIRE(log.ok());
    REQUIRE((*log)->head().size == static_cast<uint64_t>(7 * round));
    for (int i = 0; i < 7; ++i) {
      REQUIRE((*log)->Append(PolicyEvent("r" + std::to_string(round)), i % 3 == 0 ? store::Durability::kSynced
                                                                                    : store::Durability::kBuffered)
                  .ok());
    }
    if (round % 3 == 2) RequireAllProofs(**log);
  }
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE(log.ok());
  REQUIRE((*log)->head().size == 119);
  RequireConsistent(**log);
  RequireAllProofs(**log);
  // 119 entries: blocks 0..6 complete, 7 leaves pending; nodes stored only from level 4.
  REQUIRE(AuditKeys(*s.store, "e").size() == 119);
  REQUIRE(AuditKeys(*s.store, "b").size() == 7);
  for (uint64_t b = 0; b < 7; ++b) REQUIRE(s.store->Get(store::Family::kAudit, Key('b', b))->size() == 16 * 32);
  const std::vector<std::string> nodes = AuditKeys(*s.store, "n");
  REQUIRE(nodes.size() == 7 + 3 + 1);  // level 4: 0..6, level 5: 0..2, level 6: 0
  for (const std::string& k : nodes) REQUIRE(static_cast<uint8_t>(k[1]) >= 4);
  REQUIRE(s.store->Get(store::Family::kAudit, "p")->size() == 7 * 32);
}

TEST_CASE("audit log: a log written before blocks is read and extended as it is", "[audit]") {
  testing::Stores s;
  // Two blocks and none, five (odd) or six (even) entries of the third.
  const uint64_t size = GENERATE(32, 37, 38);
  const std::vector<tlog::Hash> leaves = WriteLogBeforeBlocks(*s.store, size);
  {
    auto log = node::AuditLog::Open(*s.store);
    REQUIRE(log.ok());
    REQUIRE((*log)->head().size == size);
    REQUIRE((*log)->head().root == tlog::RootOf(leaves));
    RequireAllProofs(**log);
    // Extended past the third block (32..47): the old leaf hashes of that
    // block go into its block record.
    while ((*log)->head().size < 50) REQUIRE((*log)->Append(PolicyEvent("new"), store::Durability::kSynced).ok());
  }
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE(log.ok());
  RequireConsistent(**log);
  RequireAllProofs(**log);
  REQUIRE(AuditKeys(*s.store, "b").size() == 1);  // only the block completed after the upgrade
}

TEST_CASE("audit log: a log written before blocks that lost a tree node of its open block still opens", "[audit]") {
  testing::Stores s;
  const std::vector<tlog::Hash> leaves = WriteLogBeforeBlocks(*s.store, 21);
  std::string pair = "n";
  pair.push_back('\x01');
  AppendU64(pair, 17 / 2);  // leaves 16 and 17
  REQUIRE(s.store->Delete(store::Family::kAudit, pair).ok());
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE(log.ok());
  REQUIRE((*log)->head().root == tlog::RootOf(leaves));
  for (int i = 0; i < 11; ++i) REQUIRE((*log)->Append(PolicyEvent("new"), store::Durability::kSynced).ok());
  RequireAllProofs(**log);
}

// A log of `n` synced entries, closed again.
void WriteEntries(store::Store& store, int n) {
  auto log = node::AuditLog::Open(store);
  REQUIRE(log.ok());
  for (int i = 0; i < n; ++i) REQUIRE((*log)->Append(PolicyEvent("x"), store::Durability::kSynced).ok());
}

TEST_CASE("audit log: a lost or wrong record of the open block is recovered from the entries, checked against "
          "the tree state",
          "[audit]") {
  testing::Stores s;
  WriteEntries(*s.store, 21);
  SECTION("the wrong number of hashes") {
    REQUIRE(s.store->Put(node::AuditRecord("p", std::string(4 * 32, 'h'))).ok());
  }
  SECTION("the right number of wrong hashes") {
    REQUIRE(s.store->Put(node::AuditRecord("p", std::string(5 * 32, 'h'))).ok());
  }
  SECTION("no record") {
    REQUIRE(s.store->Delete(store::Family::kAudit, "p").ok());
  }
  {
    auto log = node::AuditLog::Open(*s.store);
    REQUIRE(log.ok());
    RequireAllProofs(**log);
    // And the block it completes holds the right hashes.
    for (int i = 0; i < 11; ++i) REQUIRE((*log)->Append(PolicyEvent("y"), store::Durability::kSynced).ok());
    RequireAllProofs(**log);
  }
}

TEST_CASE("audit log: an open block that agrees with the tree state nowhere stops the log from opening", "[audit]") {
  testing::Stores s;
  WriteEntries(*s.store, 5);
  REQUIRE(s.store->Put(node::AuditRecord("p", std::string(5 * 32, 'h'))).ok());
  SECTION("an entry lost") {
    REQUIRE(s.store->Delete(store::Family::kAudit, Key('e', 3)).ok());
  }
  SECTION("an entry replaced by another, well sealed") {
    REQUIRE(s.store->Put(node::AuditRecord(Key('e', 3), node::LeafBytes(3, PolicyEvent("other").SerializeAsString())))
                .ok());
  }
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE_FALSE(log.ok());
  REQUIRE(ReasonOf(log.status()) == Reason::kRecordCorrupt);
}

// Closes the store, lets `edit` change its files as a failing disk or an
// attacker could, and opens it again.
void EditClosedStore(testing::Stores& s, const std::function<void(testing::RawDb&)>& edit) {
  s.store.reset();
  {
    testing::RawDb raw(s.dir.path("records"));
    edit(raw);
  }
  auto reopened = store::Store::Open(s.dir.path("records"), *s.key_store, s.clock());
  REQUIRE(reopened.ok());
  s.store = *std::move(reopened);
}

// Flips one bit of the stored audit record `key` at `offset` (from the end
// if negative): 0 is its format version, 42 its key id, -1 its tag.
void FlipAuditByte(testing::RawDb& raw, const std::string& key, long offset) {
  std::string v;
  REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(store::Family::kAudit), key, &v).ok());
  v[offset < 0 ? v.size() - static_cast<size_t>(-offset) : static_cast<size_t>(offset)] ^= 1;
  REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(store::Family::kAudit), key, v).ok());
}

TEST_CASE("audit log: a record of the open block that cannot be read stops the log with its own reason, not a "
          "recovery",
          "[audit]") {
  testing::Stores s;
  WriteEntries(*s.store, 21);
  Reason expected = Reason::kNone;
  SECTION("its block record, in a newer format") {
    EditClosedStore(s, [](testing::RawDb& raw) { FlipAuditByte(raw, "p", 0); });
    expected = Reason::kNewerFormat;
  }
  SECTION("its block record, altered") {
    EditClosedStore(s, [](testing::RawDb& raw) { FlipAuditByte(raw, "p", -1); });
    expected = Reason::kRecordCorrupt;
  }
  SECTION("an entry in a newer format, the block record lost") {
    REQUIRE(s.store->Delete(store::Family::kAudit, "p").ok());
    EditClosedStore(s, [](testing::RawDb& raw) { FlipAuditByte(raw, Key('e', 18), 0); });
    expected = Reason::kNewerFormat;
  }
  REQUIRE(expected != Reason::kNone);
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE_FALSE(log.ok());
  REQUIRE(ReasonOf(log.status()) == expected);
  // The store's own error, not the recovery's verdict.
  REQUIRE_THAT(std::string(log.status().message()), Catch::Contains("audit record"));
}

TEST_CASE("audit log: a log whose tree state is lost does not start again at 0 over its entries", "[audit]") {
  testing::Stores s;
  WriteEntries(*s.store, 5);
  SECTION("deleted") {
    REQUIRE(s.store->Delete(store::Family::kAudit, "s").ok());
  }
  SECTION("its key id altered, so it reads as shredded") {
    EditClosedStore(s, [](testing::RawDb& raw) { FlipAuditByte(raw, "s", 42); });
  }
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE_FALSE(log.ok());
  REQUIRE(ReasonOf(log.status()) == Reason::kRecordCorrupt);
  REQUIRE(s.store->Get(store::Family::kAudit, Key('e', 0)).ok());  // nothing overwritten
}

TEST_CASE("audit log: proofs taken while blocks complete verify against the head they were taken at", "[audit]") {
  testing::Stores s;
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE(log.ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, checked{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      uint64_t n = static_cast<uint64_t>(r);
      while (!done.load()) {
        const node::AuditLog::Head h = (*log)->head();
        if (h.size == 0) continue;
        const uint64_t i = (n++ * 7919) % h.size;
        auto proof = (*log)->InclusionProof(i, h.size);
        auto leaf = (*log)->Entry(i);
        if (!proof.ok() || !leaf.ok() || !tlog::VerifyInclusion(i, h.size, tlog::LeafHash(*leaf), *proof, h.root)) {
          ++bad;
        }
        ++checked;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 60; ++i) {
        const auto durability = i % 4 == 0 ? store::Durability::kSynced : store::Durability::kBuffered;
        if (!(*log)->Append(PolicyEvent(std::to_string(w)), durability).ok()) ++bad;
      }
      if (!(*log)->Append(PolicyEvent("last"), store::Durability::kSynced).ok()) ++bad;  // no REQUIRE off the main thread
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  REQUIRE(bad.load() == 0);
  REQUIRE(checked.load() > 0);
  REQUIRE((*log)->head().size == 183);
  RequireAllProofs(**log);
}

TEST_CASE("audit log: concurrent writers share group commits and lose nothing", "[audit]") {
  testing::Stores s;
  auto log = node::AuditLog::Open(*s.store);
  REQUIRE(log.ok());
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (!(*log)->Append(PolicyEvent(std::to_string(t)), store::Durability::kSynced).ok()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  REQUIRE(failures == 0);
  REQUIRE((*log)->head().size == 400);
  RequireConsistent(**log);
}

TEST_CASE("audit log: kill -9 during appends leaves a log whose every acknowledged entry verifies", "[audit][crash]") {
  testing::Stores s;
  const std::string records = s.dir.path("records");
  const std::string keys_dir = s.dir.path("keys");
  s.store.reset();
  s.key_store.reset();
  int ack_pipe[2];
  REQUIRE(::pipe(ack_pipe) == 0);
  for (int round = 0; round < 5; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child appends from 4 threads and reports each acknowledged seq count.
      auto ks = store::KeyStore::Open(keys_dir, *keys::MasterKey::FromKeyFile(s.dir.path("master.key")));
      if (!ks.ok()) ::_exit(3);
      auto st = store::Store::Open(records, **ks, SystemNow);
      if (!st.ok()) ::_exit(4);
      auto log = node::AuditLog::Open(**st);
      if (!log.ok()) ::_exit(5);
      std::vector<std::thread> writers;
      for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&] {
          for (;;) {
            if (!(*log)->Append(PolicyEvent("crash"), store::Durability::kSynced).ok()) ::_exit(6);
            const uint64_t acked = (*log)->head().size;
            if (::write(ack_pipe[1], &acked, sizeof acked) != sizeof acked) ::_exit(7);
          }
        });
      }
      for (auto& w : writers) w.join();
      ::_exit(0);
    }
    // Let it write a while, then kill it mid-append.
    uint64_t acked = 0;
    for (int n = 0; n < 200 + round * 37; ++n) {
      uint64_t v = 0;
      REQUIRE(::read(ack_pipe[0], &v, sizeof v) == sizeof v);
      acked = std::max(acked, v);
    }
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    // Drain acknowledgements written before the kill.
    for (;;) {
      pollfd p{ack_pipe[0], POLLIN, 0};
      if (::poll(&p, 1, 0) != 1) break;
      uint64_t v = 0;
      if (::read(ack_pipe[0], &v, sizeof v) != sizeof v) break;
      acked = std::max(acked, v);
    }
    auto ks = store::KeyStore::Open(keys_dir, *keys::MasterKey::FromKeyFile(s.dir.path("master.key")));
    REQUIRE(ks.ok());
    auto st = store::Store::Open(records, **ks, SystemNow);
    REQUIRE(st.ok());
    auto log = node::AuditLog::Open(**st);
    REQUIRE(log.ok());
    REQUIRE((*log)->head().size >= acked);  // no acknowledged entry lost
    RequireConsistent(**log);
    RequireHeadProofs(**log);  // and the stored blocks and nodes agree with the tree state
  }
  ::close(ack_pipe[0]);
  ::close(ack_pipe[1]);
}

}  // namespace
}  // namespace casenode

namespace casenode {
namespace {

// A node's log and key, offering checkpoints to a witness directly.
struct LogNode {
  testing::Stores s;
  keys::SigningKey key;
  std::unique_ptr<node::AuditLog> log;
  // Nodes made with the same `seed` sign with the same key.
  LogNode(int entries, uint8_t seed) : key(*keys::SigningKey::FromSeed(std::vector<uint8_t>(32, seed))) {
    auto opened = node::AuditLog::Open(*s.store);
    REQUIRE(opened.ok());
    log = *std::move(opened);
    Grow(entries);
  }
  void Grow(int entries) {
    for (int i = 0; i < entries; ++i) {
      REQUIRE(log->Append(PolicyEvent("e" + std::to_string(i)), store::Durability::kSynced).ok());
    }
  }
  network::ManifestNode Entry() const {
    network::ManifestNode n;
    n.org = "jeugdhulp";
    n.signing_key = key.public_key();
    return n;
  }
  v1::CosignRequest Offer(uint64_t old_size) const {
    v1::CosignRequest req;
    req.set_note(node::SignedCheckpoint(*log, key, "jeugdhulp"));
    auto proof = log->ConsistencyProof(old_size, log->head().size);
    REQUIRE(proof.ok());
    req.set_old_size(old_size);
    for (const auto& h : *proof) req.add_consistency_proof(std::string(h.begin(), h.end()));
    return req;
  }
};

TEST_CASE("a witness cosigns only extensions of what it cosigned, and keeps evidence of anything else",
          "[audit][witness]") {
  testing::Stores ws;
  const keys::SigningKey witness_key = keys::SigningKey::Generate();
  node::Witness witness(*ws.store, witness_key, "gemeente", ws.clock());
  LogNode a(5, 1);

  // First offer: nothing held, any size is taken; the cosignature verifies.
  auto first = witness.Cosign(a.Entry(), a.Offer(0));
  REQUIRE(first.ok());
  REQUIRE(first->result() == v1::CosignResponse::COSIGNED);
  auto note = tlog::ParseNote(a.Offer(0).note() + first->cosignature());
  REQUIRE(note.ok());
  REQUIRE(tlog::VerifyCosignature(*note, node::WitnessName("gemeente"), witness_key.public_key()).ok());

  // The log grows: an offer from the wrong old size is told the right one; with a proof from there it is cosigned.
  a.Grow(7);
  auto mismatch = witness.Cosign(a.Entry(), a.Offer(0));
  REQUIRE(mismatch.ok());
  REQUIRE(mismatch->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  REQUIRE(mismatch->known_size() == 5);
  auto second = witness.Cosign(a.Entry(), a.Offer(5));
  REQUIRE(second.ok());
  REQUIRE(second->result() == v1::CosignResponse::COSIGNED);
  REQUIRE(witness.Refused().empty());

  // Another history under the same key (rewritten), larger than what the witness holds: refused.
  LogNode b(20, 1);
  auto rewritten = witness.Cosign(b.Entry(), b.Offer(12));
  REQUIRE(rewritten.ok());
  REQUIRE(rewritten->result() == v1::CosignResponse::REFUSED);
  REQUIRE(rewritten->held_note() == node::SignedCheckpoint(*a.log, a.key, "jeugdhulp"));  // the node can check it
  // A smaller checkpoint (rolled back): refused, and the witness says what it holds.
  LogNode c(3, 1);
  auto rolled = witness.Cosign(c.Entry(), c.Offer(0));
  REQUIRE(rolled.ok());
  REQUIRE(rolled->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  REQUIRE(rolled->known_size() == 12);
  const auto refused = witness.Refused();
  REQUIRE(refused.size() == 1);  // the first evidence per node is kept: the proven fork
  REQUIRE(refused[0].org() == "jeugdhulp");
  REQUIRE(refused[0].known_size() == 12);
  REQUIRE(refused[0].offered_size() == 20);

  // A note not signed by the caller's key is not even considered.
  LogNode d(2, 2);
  auto forged = witness.Cosign(a.Entry(), d.Offer(0));
  REQUIRE(ReasonOf(forged.status()) == Reason::kMalformedRequest);
  // And the witness still holds 12: the honest log goes on being cosigned.
  a.Grow(1);
  auto third = witness.Cosign(a.Entry(), a.Offer(12));
  REQUIRE(third.ok());
  REQUIRE(third->result() == v1::CosignResponse::COSIGNED);
}

// Appends a LogGap naming `witness` with `size` and returns an offer that carries it.
v1::CosignRequest GapOffer(LogNode& n, const std::string& witness, uint64_t size, const tlog::Hash& root) {
  v1::AuditEntry e;
  v1::LogGap::Held* h = e.mutable_gap()->add_held();
  h->set_witness(witness);
  h->set_size(size);
  h->set_root(std::string(root.begin(), root.end()));
  uint64_t seq = 0;
  REQUIRE(n.log->Append(e, store::Durability::kSynced, &seq).ok());
  REQUIRE(seq == n.log->head().size - 1);
  REQUIRE(node::LeafIsGap(*n.log->Entry(seq)));
  REQUIRE_FALSE(node::LeafIsGap(*n.log->Entry(0)));
  v1::CosignRequest req = n.Offer(0);
  req.set_gap_seq(seq);
  req.set_gap_leaf(*n.log->Entry(seq));
  auto proof = n.log->InclusionProof(seq, n.log->head().size);
  REQUIRE(proof.ok());
  for (const auto& x : *proof) req.add_gap_inclusion_proof(std::string(x.begin(), x.end()));
  return req;
}

TEST_CASE("an auditor requires as many witnesses as the policy asks, at most every other node", "[audit][witness]") {
  REQUIRE(node::RequiredWitnesses(2, 4) == 2);
  REQUIRE(node::RequiredWitnesses(3, 2) == 2);
  REQUIRE(node::RequiredWitnesses(1, 0) == 0);
}

TEST_CASE("a witness takes a restored log's new history only from a gap entry that names what it held",
          "[audit][witness]") {
  testing::Stores ws;
  const keys::SigningKey witness_key = keys::SigningKey::Generate();
  node::Witness witness(*ws.store, witness_key, "gemeente", ws.clock());
  LogNode a(9, 1);
  REQUIRE(witness.Cosign(a.Entry(), a.Offer(0))->result() == v1::CosignResponse::COSIGNED);  // holds 9
  const tlog::Hash held_root = a.log->head().root;

  // Restored: 4 entries of the same key's log, then gaps. Only one naming
  // exactly what this witness holds (its name, size and root) is taken.
  LogNode restored(4, 1);
  v1::CosignRequest other_witness = GapOffer(restored, "school", 9, held_root);
  REQUIRE(witness.Cosign(restored.Entry(), other_witness)->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  v1::CosignRequest wrong_size = GapOffer(restored, "gemeente", 8, held_root);
  REQUIRE(witness.Cosign(restored.Entry(), wrong_size)->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  v1::CosignRequest wrong_root = GapOffer(restored, "gemeente", 9, tlog::EmptyRoot());
  REQUIRE(witness.Cosign(restored.Entry(), wrong_root)->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  v1::CosignRequest bad_proof = GapOffer(restored, "gemeente", 9, held_root);
  bad_proof.mutable_gap_inclusion_proof(0)->at(0) ^= 1;
  REQUIRE(witness.Cosign(restored.Entry(), bad_proof)->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  v1::CosignRequest unknown_field = GapOffer(restored, "gemeente", 9, held_root);
  unknown_field.mutable_gap_leaf()->append("\xa0\x06\x01", 3);  // field 100, varint 1: not the log's encoding
  REQUIRE(witness.Cosign(restored.Entry(), unknown_field)->result() == v1::CosignResponse::OLD_SIZE_MISMATCH);
  v1::CosignRequest named = GapOffer(restored, "gemeente", 9, held_root);
  auto accepted = witness.Cosign(restored.Entry(), named);
  REQUIRE(accepted.ok());
  REQUIRE(accepted->result() == v1::CosignResponse::COSIGNED);
  REQUIRE(accepted->known_size() == restored.log->head().size);
  REQUIRE(witness.Refused().size() == 1);  // the fork's evidence stays
  // The same gap again does not name what the witness now holds: used once.
  restored.Grow(2);
  const uint64_t now_held = restored.log->head().size - 2;
  v1::CosignRequest again = restored.Offer(now_held);
  again.set_gap_seq(named.gap_seq());
  again.set_gap_leaf(named.gap_leaf());
  auto proof = restored.log->InclusionProof(named.gap_seq(), restored.log->head().size);
  REQUIRE(proof.ok());
  for (const auto& x : *proof) again.add_gap_inclusion_proof(std::string(x.begin(), x.end()));
  REQUIRE(witness.Cosign(restored.Entry(), again)->result() == v1::CosignResponse::COSIGNED);  // a plain extension
  // The old history is refused from now on.
  a.Grow(5);
  REQUIRE(witness.Cosign(a.Entry(), a.Offer(now_held + 2))->result() == v1::CosignResponse::REFUSED);
}

}  // namespace
}  // namespace casenode

namespace casenode {
namespace {

TEST_CASE("audit log: an append the disk cannot take fails, changes nothing, and leaves no gap", "[audit][fault]") {
  // A child in its own mount namespace appends to a log on a 4 MiB tmpfs until it is full.
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(10);
    char tmpl[] = "/tmp/casenode-audit-full-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr || ::mount("tmpfs", tmpl, "tmpfs", 0, "size=4m") != 0) _exit(11);
    const std::string dir = tmpl;
    if (!keys::MasterKey::CreateKeyFile(dir + "/m.key").ok()) _exit(12);
    // Never destroyed: Debian's RocksDB asserts when a DB that hit ENOSPC is closed.
    auto* ks = new auto(store::KeyStore::Open(dir + "/keys", *keys::MasterKey::FromKeyFile(dir + "/m.key")));
    if (!ks->ok()) _exit(13);
    auto* st = new auto(store::Store::Open(dir + "/records", ***ks, SystemNow));
    if (!st->ok()) _exit(14);
    auto* log = new auto(node::AuditLog::Open(***st));
    if (!log->ok()) _exit(15);
    node::AuditLog& l = ***log;
    v1::AuditEntry big = PolicyEvent("big");
    big.mutable_policy_load()->add_network_sources()->set_text(std::string(64 * 1024, 'p'));
    absl::Status s;
    uint64_t acked = 0;
    for (int i = 0; i < 1000; ++i) {
      const auto before = l.head();
      s = l.Append(big, store::Durability::kSynced);
      if (!s.ok()) {
        // Refused: the caller must not answer, and the tree did not move.
        if (s.code() != absl::StatusCode::kUnavailable) _exit(16);
        if (l.head().size != before.size || l.head().root != before.root) _exit(17);
        break;
      }
      acked = l.head().size;
    }
    if (s.ok() || acked == 0) _exit(18);
    // Every acknowledged entry is there, in place, under the head's root.
    std::vector<tlog::Hash> leaves;
    for (uint64_t i = 0; i < l.head().size; ++i) {
      auto bytes = l.Entry(i);
      if (!bytes.ok() || node::LeafSeq(*bytes) != i) _exit(19);
      leaves.push_back(tlog::LeafHash(*bytes));
    }
    if (tlog::RootOf(leaves) != l.head().root) _exit(20);
    // And the blocks and nodes kept after the refused write still prove them.
    for (uint64_t i = 0; i < l.head().size; ++i) {
      auto proof = l.InclusionProof(i, l.head().size);
      if (!proof.ok() || !tlog::VerifyInclusion(i, l.head().size, leaves[i], *proof, l.head().root)) _exit(21);
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  INFO("child exit code (10-15: setup, 16: wrong error, 17: tree moved, 18: never filled, 19-21: log wrong)");
  REQUIRE(WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace casenode


namespace casenode {
namespace {

struct ReplayFixture {
  v1::PolicyLoad load;
  std::shared_ptr<const policy::Policy> policy;
  ReplayFixture() {
    auto sources = policy::Policy::ReadNetworkSources(CASENODE_SOURCE_DIR "/policy/network");
    REQUIRE(sources.ok());
    auto compiled = policy::Policy::FromSources(*sources);
    REQUIRE(compiled.ok());
    policy = *compiled;
    load.set_policy_hash(policy->hash());
    load.set_network_policy_hash(policy->network_hash());
    for (const auto& src : *sources) {
      auto* out = load.add_network_sources();
      out->set_name(src.name);
      out->set_text(src.text);
    }
  }
  std::string Leaf(uint64_t seq, const v1::AuditEntry& e) { return node::LeafBytes(seq, e.SerializeAsString()); }
  v1::AuditEntry LoadEntry() {
    v1::AuditEntry e;
    *e.mutable_policy_load() = load;
    return e;
  }
  // The decision the gate would log for `q`.
  v1::AuditEntry DecisionEntry(const policy::Request& q, const policy::Decision& d) {
    v1::AuditEntry e;
    const node::DecisionEvent ev{"Peer.EvaluatePseudonym", "0af7651916cd43dd8448eb211c80319c", "", v1::ROLE_SCHOOL,
                                 &q, &d, ""};
    node::EncodeDecision(ev, 1, *e.mutable_decision());
    return e;
  }
};

policy::Request PseudonymRequest() {
  policy::Request q;
  q.requester_org = "school";
  q.requester_role = "school";
  q.action = "pseudonym.evaluate";
  q.purpose = "vroegsignalering";
  q.legal_basis = "public_task";
  return q;
}

TEST_CASE("replay: a decision stands under its policy, a rate-limit or quota denial of a limited action too",
          "[audit][replay]") {
  ReplayFixture f;
  node::Replayer replayer("jeugdhulp", 0, 0);
  v1::AuditVerifyReport report;
  replayer.Add(0, f.Leaf(0, f.LoadEntry()), report);
  policy::Request lookup;
  lookup.requester_org = "school";
  lookup.requester_role = "school";
  lookup.action = "signal.lookup";
  lookup.purpose = "vroegsignalering";
  lookup.categories = {"signaal"};
  lookup.legal_basis = "public_task";
  policy::Decision d = f.policy->Evaluate(lookup);
  REQUIRE(d.allowed());
  REQUIRE(d.rate_limit_per_minute > 0);
  replayer.Add(1, f.Leaf(1, f.DecisionEntry(lookup, d)), report);
  // The gate's rate limiter turned the next one into a denial: not a difference.
  d.effect = policy::Effect::kDeny;
  d.reason = Reason::kRateLimited;
  replayer.Add(2, f.Leaf(2, f.DecisionEntry(lookup, d)), report);
  // Nor is a denial for a spent quota, on an action and role the policy sets one for.
  const policy::Request q = PseudonymRequest();
  policy::Decision qd = f.policy->Evaluate(q);
  REQUIRE(qd.allowed());
  REQUIRE(f.policy->quota(q.action, q.requester_role) != nullptr);
  qd.effect = policy::Effect::kDeny;
  qd.reason = Reason::kQuotaExhausted;
  replayer.Add(3, f.Leaf(3, f.DecisionEntry(q, qd)), report);
  REQUIRE(report.problems_size() == 0);
  REQUIRE(replayer.decisions_replayed() == 3);

  // A rate-limit or quota denial where the policy sets neither is a difference.
  policy::Request ping;
  ping.requester_org = "school";
  ping.requester_role = "school";
  ping.action = "node.ping";
  ping.purpose = "netwerkbeheer";
  policy::Decision pd = f.policy->Evaluate(ping);
  REQUIRE(pd.allowed());
  REQUIRE(pd.rate_limit_per_minute == 0);
  REQUIRE(f.policy->quota(ping.action, ping.requester_role) == nullptr);
  pd.effect = policy::Effect::kDeny;
  pd.reason = Reason::kRateLimited;
  replayer.Add(4, f.Leaf(4, f.DecisionEntry(ping, pd)), report);
  pd.reason = Reason::kQuotaExhausted;
  replayer.Add(5, f.Leaf(5, f.DecisionEntry(ping, pd)), report);
  REQUIRE(report.problems_size() == 2);
  REQUIRE(report.problems(0).kind() == v1::AuditProblem::DECISION_DIFFERS);
  REQUIRE(report.problems(0).seq() == 4);
  REQUIRE(report.problems(1).seq() == 5);
}

TEST_CASE("replay: a decision under a policy the log had replaced, or an unreadable entry, is reported",
          "[audit][replay]") {
  ReplayFixture f;
  node::Replayer replayer("jeugdhulp", 0, 0);
  v1::AuditVerifyReport report;
  replayer.Add(0, f.Leaf(0, f.LoadEntry()), report);
  const policy::Request q = PseudonymRequest();
  const policy::Decision old_d = f.policy->Evaluate(q);
  // Two later loads (a stricter local rule, then another): the first policy is no longer in force.
  for (const char* rule : {"a", "b"}) {
    v1::AuditEntry e = f.LoadEntry();
    auto* local = e.mutable_policy_load()->add_local_sources();
    local->set_name("local.toml");
    local->set_text(StrCat("[[rule]]\nid = \"lokaal-", rule,
                           "\"\neffect = \"deny\"\ndescription = \"x\"\nroles = [\"politie\"]\nactions = "
                           "[\"node.ping\"]\npurposes = [\"netwerkbeheer\"]\n"));
    auto sources = policy::Policy::ReadNetworkSources(CASENODE_SOURCE_DIR "/policy/network");
    auto compiled = policy::Policy::FromSources(*sources, {{"local.toml", local->text()}});
    REQUIRE(compiled.ok());
    e.mutable_policy_load()->set_policy_hash((*compiled)->hash());
    replayer.Add(1, f.Leaf(1, e), report);
  }
  REQUIRE(report.problems_size() == 0);
  replayer.Add(3, f.Leaf(3, f.DecisionEntry(q, old_d)), report);
  replayer.Add(4, "\x08\x04garbage", report);
  REQUIRE(report.problems_size() == 2);
  REQUIRE(report.problems(0).kind() == v1::AuditProblem::POLICY_NOT_IN_FORCE);
  REQUIRE(report.problems(0).seq() == 3);
  REQUIRE(report.problems(1).kind() == v1::AuditProblem::ENTRY_MALFORMED);
}


// The tests name states as the log's text did: "ACTIVE", "REVOKED", ...; "" for none.
v1::ConsentState ConsentStateFrom(const std::string& text) {
  v1::ConsentState state = v1::CONSENT_STATE_UNSPECIFIED;
  if (!text.empty()) REQUIRE(v1::ConsentState_Parse("CONSENT_" + text, &state));
  return state;
}

// Consent in the log: what the node answered and what its decisions rested on.
struct ConsentReplay : ReplayFixture {
  node::Replayer replayer{"jeugdhulp", 0, 0};
  v1::AuditVerifyReport report;
  uint64_t seq = 0;
  static constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
  static constexpr char kSpan[] = "00f067aa0ba902b7";
  ConsentReplay() { Add(LoadEntry()); }
  void Add(v1::AuditEntry e) {
    replayer.Add(seq, Leaf(seq, e), report);
    ++seq;
  }
  // Returns the event's seq.
  uint64_t Event(v1::ConsentEvent::Kind kind, const std::string& receipt, const std::string& state = "",
                 const std::string& asker = "", uint64_t generation = 0, const std::string& issuer = "jeugdhulp") {
    v1::AuditEntry e;
    e.set_trace_id(kTrace);
    e.set_span_id(kSpan);
    v1::ConsentEvent& c = *e.mutable_consent();
    c.set_kind(kind);
    c.set_receipt_id(receipt);
    c.set_issuer_org(issuer);
    c.set_state(ConsentStateFrom(state));
    c.set_asker_org(asker);
    c.set_hold_generation(generation);
    Add(std::move(e));
    return seq - 1;
  }
  // gemeente reads a zorg contribution on the consent in `fact`, as jeugdhulp's gate decides and logs it.
  void Decision(policy::ConsentStatus status, const std::vector<v1::ConsentCheck>& checks) {
    policy::Request q;
    q.subject = policy::kThisChild;
    q.requester_org = "gemeente";
    q.requester_role = "gemeente";
    q.action = "case.read";
    q.purpose = "casusoverleg";
    q.categories = {"zorg"};
    q.legal_basis = "consent";
    q.case_member = q.case_active = q.within_retention = true;
    policy::ConsentFact fact;
    fact.receipt_id = "r1";
    fact.status = status;
    fact.purposes = {"casusoverleg"};
    fact.categories = {"zorg"};
    fact.subject = policy::kThisChild;
    q.consents = {fact};
    const policy::Decision d = policy->Evaluate(q);
    v1::AuditEntry e;
    e.set_trace_id(kTrace);
    e.set_span_id(kSpan);
    const node::DecisionEvent ev{"Peer.ReadCase", kTrace, kSpan, v1::ROLE_GEMEENTE, &q, &d, "", &checks};
    node::EncodeDecision(ev, 1, *e.mutable_decision());
    Add(std::move(e));
  }
  // An answer used `age_ms` after it was asked; decisions are logged at time 1 ms.
  static v1::ConsentCheck Check(const std::string& issuer, const std::string& state, int64_t age_ms = 0,
                                uint64_t answer_seq = 0) {
    v1::ConsentCheck c;
    c.set_receipt_id("r1");
    c.set_issuer_org(issuer);
    c.set_state(ConsentStateFrom(state));
    c.set_trace_id(kTrace);
    c.set_span_id(kSpan);
    c.set_answered_at_unix_ms(1 - age_ms);
    c.set_age_ms(age_ms);
    c.set_fact_index(0);
    c.set_answer_seq(answer_seq);
    return c;
  }
  std::vector<std::pair<v1::AuditProblem::Kind, uint64_t>> Problems() const {
    std::vector<std::pair<v1::AuditProblem::Kind, uint64_t>> out;
    for (const auto& p : report.problems()) out.emplace_back(p.kind(), p.seq());
    return out;
  }
};

TEST_CASE("replay: every consent answer must be the state the log's own consent events give", "[audit][replay]") {
  ConsentReplay f;
  using E = v1::ConsentEvent;
  f.Event(E::STATUS_ANSWERED, "r1", "UNKNOWN", "gemeente");  // not recorded yet
  f.Event(E::RECORDED, "r1");
  f.Event(E::RECORDED, "r3");
  f.Event(E::STATUS_ANSWERED, "r1", "ACTIVE", "gemeente");
  f.Event(E::HELD, "", "", "", 1);                              // a restore lost revocations
  f.Event(E::STATUS_ANSWERED, "r1", "UNCONFIRMED", "school");
  f.Event(E::CONFIRMED, "r1", "", "", 1);
  f.Event(E::CONFIRMED, "r1", "", "", 1);                       // repeated by staff: logged again
  f.Event(E::STATUS_ANSWERED, "r1", "ACTIVE", "school");
  f.Event(E::HELD, "", "", "", 1);                              // a later start under the same hold
  f.Event(E::STATUS_ANSWERED, "r1", "ACTIVE", "school");
  f.Event(E::STATUS_ANSWERED, "r3", "UNCONFIRMED", "school");
  f.Event(E::RECORDED, "r4", "", "", 1);                        // recorded under the hold: not held
  f.Event(E::STATUS_ANSWERED, "r4", "ACTIVE", "school");
  f.Event(E::REVOKED, "r1");
  f.Event(E::STATUS_ANSWERED, "r1", "REVOKED", "school");
  REQUIRE(f.report.problems_size() == 0);
  const uint64_t revived = f.Event(E::STATUS_ANSWERED, "r1", "ACTIVE", "gemeente");
  const uint64_t confirmed = f.Event(E::CONFIRMED, "r1", "", "", 1);  // a revoked receipt
  const uint64_t unknown = f.Event(E::STATUS_ANSWERED, "r2", "ACTIVE", "gemeente");  // never recorded
  const uint64_t foreign = f.Event(E::RECORDED, "r5", "", "", 0, "school");  // another issuer's receipt
  const uint64_t twice = f.Event(E::RECORDED, "r4", "", "", 1);
  using K = v1::AuditProblem;
  CHECK(f.Problems() == std::vector<std::pair<K::Kind, uint64_t>>{{K::CONSENT_STATE_DIFFERS, revived},
                                                                  {K::CONSENT_STATE_DIFFERS, confirmed},
                                                                  {K::CONSENT_STATE_DIFFERS, unknown},
                                                                  {K::CONSENT_STATE_DIFFERS, foreign},
                                                                  {K::CONSENT_STATE_DIFFERS, twice}});
}

TEST_CASE("replay: entries logged with the state as text read as their typed state, and problems name it",
          "[audit][replay]") {
  ConsentReplay f;
  using E = v1::ConsentEvent;
  using S = policy::ConsentStatus;
  f.Event(E::RECORDED, "r1");
  // As a casenode before ConsentState logged them: the text in the old field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  v1::AuditEntry answer;
  answer.set_trace_id(ConsentReplay::kTrace);
  answer.set_span_id(ConsentReplay::kSpan);
  v1::ConsentEvent& c = *answer.mutable_consent();
  c.set_kind(E::STATUS_ANSWERED);
  c.set_receipt_id("r1");
  c.set_issuer_org("jeugdhulp");
  c.set_asker_org("gemeente");
  c.set_legacy_state("ACTIVE");
  f.Add(answer);
  v1::ConsentCheck old_check = ConsentReplay::Check("school", "");
  old_check.set_legacy_state("ACTIVE");
#pragma GCC diagnostic pop
  CHECK(node::LoggedState(c) == v1::CONSENT_ACTIVE);
  CHECK(node::LoggedState(old_check) == v1::CONSENT_ACTIVE);
  f.Decision(S::kValid, {old_check});
  CHECK(f.report.problems_size() == 0);
  // A problem names the states in words, never as a raw enum value.
  f.Decision(S::kValid, {ConsentReplay::Check("school", "REVOKED")});
  REQUIRE(f.report.problems_size() > 0);
  CHECK_THAT(f.report.problems(0).detail(), Catch::Contains("answered REVOKED"));
  CHECK(node::ConsentStateText(v1::CONSENT_STATE_UNSPECIFIED) == "no state");
  CHECK(node::ConsentStateText(static_cast<v1::ConsentState>(42)) == "state 42");
}

TEST_CASE("replay: a decision's consent facts are derived again from the answers it names", "[audit][replay]") {
  ConsentReplay f;
  using E = v1::ConsentEvent;
  using S = policy::ConsentStatus;
  using K = v1::AuditProblem;
  // Another issuer's answer, fresh or reused within the cache time: stands.
  f.Decision(S::kValid, {ConsentReplay::Check("school", "ACTIVE")});
  f.Decision(S::kValid, {ConsentReplay::Check("school", "ACTIVE", 59'999)});
  f.Decision(S::kRevoked, {ConsentReplay::Check("school", "UNCONFIRMED")});
  f.Decision(S::kIssuerUnreachable, {});
  // An own receipt: its answer is logged on the same call before the decision.
  f.Event(E::RECORDED, "r1");
  const uint64_t answered = f.Event(E::STATUS_ANSWERED, "r1", "ACTIVE", "jeugdhulp");
  f.Decision(S::kValid, {ConsentReplay::Check("jeugdhulp", "ACTIVE", 0, answered)});
  REQUIRE(f.report.problems_size() == 0);
  REQUIRE(f.replayer.decisions_replayed() == 5);

  const uint64_t first = f.seq;
  f.Decision(S::kValid, {ConsentReplay::Check("school", "REVOKED")});         // the answer said revoked
  f.Decision(S::kValid, {ConsentReplay::Check("school", "ACTIVE", 60'000)});  // too old to reuse
  f.Decision(S::kValid, {});                                                  // rests on no answer
  f.Decision(S::kValid, {ConsentReplay::Check("jeugdhulp", "REVOKED", 0, answered)});  // not what it answered
  f.Decision(S::kRevoked, {ConsentReplay::Check("school", "ACTIVE")});        // wrongly refused
  v1::ConsentCheck old_answer = ConsentReplay::Check("school", "ACTIVE");
  old_answer.set_answered_at_unix_ms(1 - 3'600'000);                          // said fresh, asked an hour before
  f.Decision(S::kValid, {old_answer});
  v1::ConsentCheck other_fact = ConsentReplay::Check("school", "ACTIVE");
  other_fact.set_fact_index(1);                                               // the answer of another fact
  f.Decision(S::kValid, {other_fact});
  f.Decision(S::kValid, {ConsentReplay::Check("jeugdhulp", "ACTIVE", 0, answered + 1)});  // no answer there
  std::vector<std::pair<K::Kind, uint64_t>> expected;
  for (uint64_t s = first; s < first + 8; ++s) {
    // Each fact differs, and so does the outcome: allowed on consent, or not.
    expected.emplace_back(K::CONSENT_STATE_DIFFERS, s);
    expected.emplace_back(K::DECISION_DIFFERS, s);
  }
  CHECK(f.Problems() == expected);
}

}  // namespace
}  // namespace casenode

namespace casenode {

TEST_CASE("replay lists at most 1000 problems and counts the rest", "[audit]") {
  node::Replayer replayer("jeugdhulp", 0, 0);
  v1::AuditVerifyReport report;
  for (uint64_t seq = 0; seq < 2500; ++seq) replayer.Add(seq, "\x08\x01garbage", report);
  REQUIRE(report.problems_size() == node::kMaxProblems + 1);
  REQUIRE(report.problems(0).kind() == v1::AuditProblem::ENTRY_MALFORMED);
  REQUIRE(report.problems(node::kMaxProblems).seq() == 1500);
  REQUIRE(report.problems(node::kMaxProblems).kind() == v1::AuditProblem::PROBLEMS_TRUNCATED);
  REQUIRE(report.problems(node::kMaxProblems).detail() == "1500 more problems not listed");
}

}  // namespace casenode


namespace casenode {

TEST_CASE("reconcile finds every answer a decision relied on in its issuer's log, and reports one it does not",
          "[audit][reconcile]") {
  node::Reconciler reconciler(/*cutoff_ms=*/1'000'000, "", /*skew_ms=*/30'000);
  auto answered = [](const std::string& trace, const std::string& asker, const std::string& state,
                     int64_t at_ms = 1000) {
    v1::AuditEntry e;
    e.set_time_unix_ms(at_ms);
    e.set_trace_id(trace);
    e.set_span_id("00f067aa0ba902b7");
    v1::ConsentEvent& c = *e.mutable_consent();
    c.set_kind(v1::ConsentEvent::STATUS_ANSWERED);
    c.set_receipt_id("r1");
    c.set_issuer_org("jeugdhulp");
    c.set_asker_org(asker);
    c.set_state(ConsentStateFrom(state));
    return e.SerializeAsString();
  };
  auto decided = [](const std::string& trace, const std::string& state, const std::string& issuer = "jeugdhulp") {
    v1::AuditEntry e;
    e.set_time_unix_ms(1000);
    e.set_trace_id("11111111111111111111111111111111");
    e.set_span_id("2222222222222222");
    v1::DecisionRecord& d = *e.mutable_decision();
    d.set_requester_org("school");
    v1::ConsentCheck& c = *d.add_consent_checks();
    c.set_receipt_id("r1");
    c.set_issuer_org(issuer);
    c.set_state(ConsentStateFrom(state));
    c.set_answered_at_unix_ms(900);
    c.set_trace_id(trace);
    c.set_span_id("00f067aa0ba902b7");
    return e.SerializeAsString();
  };
  const std::string t1(32, 'a'), t2(32, 'b'), t3(32, 'c');
  reconciler.Add("jeugdhulp", 0, answered(t1, "gemeente", "ACTIVE"));
  reconciler.Add("jeugdhulp", 1, answered(t2, "gemeente", "REVOKED"));
  reconciler.Add("jeugdhulp", 2, answered(t3, "politie", "ACTIVE"));
  reconciler.Add("gemeente", 0, decided(t1, "ACTIVE"));   // backed
  reconciler.Add("gemeente", 1, decided(t1, "ACTIVE"));   // the same answer reused: backed
  reconciler.Add("gemeente", 2, decided(t2, "ACTIVE"));   // jeugdhulp said REVOKED
  reconciler.Add("gemeente", 3, decided(t3, "ACTIVE"));   // that answer went to politie
  reconciler.Add("gemeente", 4, decided(std::string(32, 'd'), "ACTIVE"));  // never answered
  // gemeente backs an answer it says school gave with an entry in its own log.
  const std::string t5(32, 'e'), t6(32, 'f');
  v1::AuditEntry own;
  own.set_trace_id(t5);
  own.set_span_id("00f067aa0ba902b7");
  own.mutable_consent()->set_kind(v1::ConsentEvent::STATUS_ANSWERED);
  own.mutable_consent()->set_receipt_id("r1");
  own.mutable_consent()->set_issuer_org("school");
  own.mutable_consent()->set_asker_org("gemeente");
  own.mutable_consent()->set_state(v1::CONSENT_ACTIVE);
  reconciler.Add("gemeente", 5, own.SerializeAsString());
  reconciler.Add("gemeente", 6, decided(t5, "ACTIVE", "school"));
  // An answer jeugdhulp gave an hour after gemeente says it asked.
  reconciler.Add("jeugdhulp", 3, answered(t6, "gemeente", "ACTIVE", 900 + 3'600'000));
  reconciler.Add("gemeente", 7, decided(t6, "ACTIVE"));
  const v1::AuditReconcileReport report = reconciler.Finish({"jeugdhulp", "gemeente", "school"});
  CHECK(report.consent_checks_paired() == 2);
  REQUIRE(report.unbacked_consents_size() == 5);
  CHECK(report.unbacked_consents(3).seq() == 6);
  CHECK(report.unbacked_consents(3).issuer_org() == "school");
  CHECK(report.unbacked_consents(4).seq() == 7);
  CHECK(report.unbacked_consents(4).why() == "the issuer answered at another time than the decider says it asked");
  CHECK(report.unbacked_consents(0).seq() == 2);
  CHECK(report.unbacked_consents(0).state_answered() == v1::CONSENT_REVOKED);
  CHECK(report.unbacked_consents(1).seq() == 3);
  CHECK(report.unbacked_consents(1).state_answered() == v1::CONSENT_STATE_UNSPECIFIED);
  CHECK(report.unbacked_consents(2).seq() == 4);
  CHECK(report.unbacked_consents(2).org() == "gemeente");
  CHECK(report.unbacked_consents(2).issuer_org() == "jeugdhulp");
  // Nothing is judged about an issuer whose log was not read.
  node::Reconciler partial(1'000'000, "", 30'000);
  partial.Add("gemeente", 0, decided(t1, "ACTIVE"));
  CHECK(partial.Finish({"gemeente"}).unbacked_consents_size() == 0);
}


TEST_CASE("replay: a case read's disclosure is covered by the decisions its call took, category by category",
          "[audit][replay]") {
  ReplayFixture f;
  node::Replayer replayer("gemeente", 0, 0);
  v1::AuditVerifyReport report;
  replayer.Add(0, f.Leaf(0, f.LoadEntry()), report);
  const std::string trace = "0af7651916cd43dd8448eb211c80319c";
  auto read = [&](const std::string& category, const std::string& basis) {
    policy::Request q;
    q.subject = policy::kThisChild;
    q.requester_org = "jeugdhulp";
    q.requester_role = "jeugdhulp";
    q.action = "case.read";
    q.purpose = "casusoverleg";
    q.categories = {category};
    q.legal_basis = basis;
    q.case_member = true;
    q.case_active = true;
    const policy::Decision d = f.policy->Evaluate(q);
    v1::AuditEntry e;
    e.set_trace_id(trace);
    const node::DecisionEvent ev{"Peer.ReadCase", trace, "", v1::ROLE_JEUGDHULP, &q, &d, ""};
    node::EncodeDecision(ev, 1, *e.mutable_decision());
    return e;
  };
  auto disclosure = [&](std::vector<std::string> categories, const std::string& trace_id) {
    v1::AuditEntry e;
    e.set_trace_id(trace_id);
    v1::Disclosure& d = *e.mutable_disclosure();
    d.set_method("Peer.ReadCase");
    d.set_to_org("jeugdhulp");
    for (auto& c : categories) d.add_categories(c);
    d.set_items(2);
    d.set_decision_seq(1);
    return e;
  };
  replayer.Add(1, f.Leaf(1, read("afspraken", "public_task")), report);   // the call's own decision
  replayer.Add(2, f.Leaf(2, read("onderwijs", "public_task")), report);   // a contribution's: allowed
  replayer.Add(3, f.Leaf(3, read("justitieel", "legal_duty")), report);   // jeugdhulp may not: denied
  replayer.Add(4, f.Leaf(4, disclosure({"afspraken", "onderwijs"}, trace)), report);
  CHECK(report.problems_size() == 0);
  // Disclosing a category no decision of the call allowed is reported ...
  replayer.Add(5, f.Leaf(5, disclosure({"afspraken", "justitieel"}, trace)), report);
  REQUIRE(report.problems_size() == 1);
  CHECK(report.problems(0).kind() == v1::AuditProblem::DISCLOSURE_WITHOUT_DECISION);
  CHECK(report.problems(0).seq() == 5);
  // ... and so is one on another call.
  replayer.Add(6, f.Leaf(6, disclosure({"afspraken"}, "1af7651916cd43dd8448eb211c80319c")), report);
  REQUIRE(report.problems_size() == 2);
  CHECK(report.problems(1).seq() == 6);
}

}  // namespace casenode
