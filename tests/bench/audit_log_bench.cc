// The audit log's figures (issue: the auditor's replay):
//   bench log_append_w8 / log_append_w64: durable appends per second from 8
//     and 64 writers, tree state ready for proofs, against plain RocksDB
//     synced writes of the same entry bytes at the same concurrency (RocksDB
//     group-commits those itself). Target ratio >= 0.7; goal 50,000/s at 64.
//   bench log_verify: entries an auditor verifies per second (sequence
//     number, leaf hash, root of all leaves) against raw SHA-256 over the same bytes, at
//     1e5 and 1e6 entries (>= 0.5, and linear growth).
//   bench log_replay_1e5 / log_replay_1e6: decisions decided again per
//     second (parse, canonical request, Evaluate under the recorded policy),
//     against parsing the same entries only; the seconds show the growth.
//   bench log_inclusion_proof_1e6: an inclusion proof from the stored tree of
//     a 1e6-entry log against plain RocksDB point reads of as many keys
//     (target < 100 us).
#include <openssl/evp.h>
#include <rocksdb/db.h>
#include <sodium.h>

#include <cstdio>
#include <random>
#include <thread>

#include "store/key_store.h"
#include "keys/master_key.h"
#include "tlog/merkle.h"
#include "node/audit/audit_log.h"
#include "node/audit/replay.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tests/bench/harness.h"
#include "tests/support/temp_dir.h"

using namespace casenode;

namespace {

// A typical decision entry: what the gate logs for a signal lookup.
v1::AuditEntry TypicalEntry() {
  v1::AuditEntry e;
  e.set_trace_id("0af7651916cd43dd8448eb211c80319c");
  v1::DecisionRecord* d = e.mutable_decision();
  d->set_time_unix_ms(1'800'000'000'000);
  d->set_trace_id("0af7651916cd43dd8448eb211c80319c");
  d->set_method("Peer.LookupSignal");
  d->set_requester_org("school");
  d->set_requester_role(v1::ROLE_SCHOOL);
  d->set_action("signal.lookup");
  d->set_purpose("vroegsignalering");
  d->add_categories("signaal");
  d->set_legal_basis("public_task");
  d->set_allowed(true);
  d->set_rule_id("school-signaal-opvragen");
  d->set_reason("ALLOWED");
  d->set_policy_hash(std::string(64, 'c'));
  d->set_request_digest(std::string(64, 'd'));
  d->set_canonical_request(std::string(180, 'r'));
  return e;
}

struct Stores {
  TempDir dir;
  std::unique_ptr<store::KeyStore> keys;
  std::unique_ptr<store::Store> store;
  explicit Stores(bool sync) {
    if (!keys::MasterKey::CreateKeyFile(dir.path("m.key")).ok()) std::exit(1);
    auto ks = store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("m.key")));
    if (!ks.ok()) std::exit(1);
    keys = *std::move(ks);
    store::StoreOptions o;
    o.sync = sync;
    auto st = store::Store::Open(dir.path("records"), *keys, SystemNow, o);
    if (!st.ok()) std::exit(1);
    store = *std::move(st);
  }
};

struct PlainDb {
  TempDir dir;
  std::unique_ptr<rocksdb::DB> db;
  PlainDb() {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir.path("db"), &raw).ok()) std::exit(1);
    db.reset(raw);
  }
};

void AppendBench(int writers) {
  const std::string bytes = TypicalEntry().SerializeAsString();
  Stores s(true);
  auto log = node::AuditLog::Open(*s.store);
  if (!log.ok()) std::exit(1);
  PlainDb plain;
  std::atomic<uint64_t> next{0};
  rocksdb::WriteOptions synced;
  synced.sync = true;
  const auto duration = std::chrono::milliseconds(2000);
  const bench::Comparison c = bench::Compare(
      3,
      [&] {
        return bench::RunConcurrent(writers, duration, [&] {
          return (*log)->Append(TypicalEntry(), store::Durability::kSynced).ok();
        });
      },
      [&] {
        return bench::RunConcurrent(writers, duration, [&] {
          std::string key = "e";
          AppendU64(key, next++);
          return plain.db->Put(synced, key, bytes).ok();
        });
      });
  bench::Report("log_append_w" + std::to_string(writers), c,
                "entry_bytes=" + std::to_string(bytes.size()) + " log_size=" + std::to_string((*log)->head().size) +
                    " goal_ops=50000");
}

void VerifyBench(size_t n) {
  std::vector<std::string> leaves;
  leaves.reserve(n);
  const std::string body = TypicalEntry().SerializeAsString();
  for (size_t i = 0; i < n; ++i) leaves.push_back(node::LeafBytes(i, body));
  std::vector<tlog::Hash> hashes(n);
  tlog::Hash root{};
  const bench::Comparison c = bench::Compare(
      3,
      [&] {
        const auto start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < n; ++i) {
          if (node::LeafSeq(leaves[i]) != i) std::exit(1);
          hashes[i] = tlog::LeafHash(leaves[i]);
        }
        root = tlog::RootOf(hashes);
        bench::Result r;
        r.n = n;
        r.ops_per_s = static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
      },
      [&] {
        // Raw OpenSSL SHA-256 at its fastest: one fetched digest, one context reused.
        EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        const auto start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < n; ++i) {
          unsigned int len = 0;
          if (EVP_DigestInit_ex(ctx, md, nullptr) != 1 ||
              EVP_DigestUpdate(ctx, leaves[i].data(), leaves[i].size()) != 1 ||
              EVP_DigestFinal_ex(ctx, hashes[i].data(), &len) != 1) {
            std::exit(1);
          }
        }
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
        bench::Result r;
        r.n = n;
        r.ops_per_s = static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
      });
  bench::Report("log_verify_" + std::string(n >= 1'000'000 ? "1e6" : "1e5"), c,
                "seconds=" + std::to_string(static_cast<double>(n) / c.ours.ops_per_s));
}

void ReplayBench(size_t n) {
  auto sources = policy::Policy::ReadNetworkSources(CASENODE_SOURCE_DIR "/policy/network");
  if (!sources.ok()) std::exit(1);
  auto compiled = policy::Policy::FromSources(*sources);
  if (!compiled.ok()) std::exit(1);
  v1::AuditEntry load;
  load.mutable_policy_load()->set_policy_hash((*compiled)->hash());
  load.mutable_policy_load()->set_network_policy_hash((*compiled)->network_hash());
  for (const auto& src : *sources) {
    auto* out = load.mutable_policy_load()->add_network_sources();
    out->set_name(src.name);
    out->set_text(src.text);
  }
  policy::Request q;
  q.subject = policy::kThisChild;
  q.requester_org = "school";
  q.requester_role = "school";
  q.action = "signal.lookup";
  q.purpose = "vroegsignalering";
  q.categories = {"signaal"};
  q.legal_basis = "public_task";
  const policy::Decision d = (*compiled)->Evaluate(q);
  v1::AuditEntry decision;
  decision.set_trace_id("0af7651916cd43dd8448eb211c80319c");
  const node::DecisionEvent ev{"Peer.LookupSignal", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                               v1::ROLE_SCHOOL, &q, &d, ""};
  node::EncodeDecision(ev, 1'800'000'000'000, *decision.mutable_decision());
  std::vector<std::string> leaves;
  leaves.reserve(n + 1);
  leaves.push_back(node::LeafBytes(0, load.SerializeAsString()));
  const std::string body = decision.SerializeAsString();
  for (size_t i = 1; i <= n; ++i) leaves.push_back(node::LeafBytes(i, body));
  uint64_t problems = 0;
  const bench::Comparison c = bench::Compare(
      3,
      [&] {
        const auto start = std::chrono::steady_clock::now();
        node::Replayer replayer("jeugdhulp", 0, 0);
        v1::AuditVerifyReport report;
        for (size_t i = 0; i < leaves.size(); ++i) replayer.Add(i, leaves[i], report);
        problems = static_cast<uint64_t>(report.problems_size());
        if (replayer.decisions_replayed() != n) std::exit(1);
        bench::Result r;
        r.n = n;
        r.ops_per_s = static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
      },
      [&] {
        const auto start = std::chrono::steady_clock::now();
        v1::AuditEntry parsed;
        for (size_t i = 1; i < leaves.size(); ++i) {
          if (!parsed.ParseFromString(leaves[i])) std::exit(1);
        }
        bench::Result r;
        r.n = n;
        r.ops_per_s = static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
      });
  bench::Report("log_replay_" + std::string(n >= 1'000'000 ? "1e6" : "1e5"), c,
                "seconds=" + std::to_string(static_cast<double>(n) / c.ours.ops_per_s) +
                    " problems=" + std::to_string(problems) + " baseline=parse_only");
}

void InclusionBench() {
  constexpr uint64_t kSize = 1'000'000;
  Stores s(false);  // building the log is setup, not the figure: unsynced
  auto log = node::AuditLog::Open(*s.store);
  if (!log.ok()) std::exit(1);
  {
    constexpr int kWriters = 16;
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t) {
      writers.emplace_back([&] {
        v1::AuditEntry small;
        small.mutable_policy_load()->set_policy_hash("x");
        for (uint64_t i = 0; i < kSize / kWriters; ++i) {
          if (!(*log)->Append(small, store::Durability::kSynced).ok()) std::exit(1);
        }
      });
    }
    for (auto& w : writers) w.join();
  }
  const uint64_t size = (*log)->head().size;
  PlainDb plain;
  for (uint64_t i = 0; i < 40'000; ++i) {
    std::string key = "n";
    AppendU64(key, i);
    if (!plain.db->Put({}, key, std::string(32, 'h')).ok()) std::exit(1);
  }
  std::mt19937_64 rng(7);
  size_t proof_len = 0;
  const bench::Comparison c = bench::Compare(
      3,
      [&] {
        return bench::RunConcurrent(1, std::chrono::milliseconds(1500), [&] {
          auto proof = (*log)->InclusionProof(rng() % size, size);
          if (proof.ok()) proof_len = proof->size();
          return proof.ok();
        });
      },
      [&] {
        return bench::RunConcurrent(1, std::chrono::milliseconds(1500), [&] {
          std::string v;
          for (size_t i = 0; i < 20; ++i) {
            std::string key = "n";
            AppendU64(key, rng() % 40'000);
            if (!plain.db->Get({}, key, &v).ok()) return false;
          }
          return true;
        });
      });
  bench::Report("log_inclusion_proof_1e6", c,
                "size=" + std::to_string(size) + " proof_hashes=" + std::to_string(proof_len) +
                    " target_p50_us=100 baseline=20_plain_rocksdb_gets");
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 1;
  AppendBench(8);
  AppendBench(64);
  VerifyBench(100'000);
  VerifyBench(1'000'000);
  ReplayBench(100'000);
  ReplayBench(1'000'000);
  InclusionBench();
  return 0;
}
