// The auditor's replay, first part: real nodes log every decision in a Merkle
// log, and the auditor's node fetches and verifies another node's log over
// Peer calls (`casectl audit verify`). Tampering with a stopped node's store
// — a changed, deleted or swapped entry, or a rollback to an older backup — is
// reported with its sequence number.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/encoding.h"
#include "base/file.h"
#include "node/audit/audit_log.h"
#include "policy/request.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using namespace casenode::testing;

namespace {

constexpr char kAuditBsn[] = "507529170";

// Real traffic: the school asks the network about a child (pseudonym shares,
// lookups), so every node decides and logs.
void SchoolAsks(const LocalNetwork& net) {
  RunResult r = net.Casectl("school", {"-o", "json", "signal", "check"}, std::string(kAuditBsn) + "\n");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

struct Verified {
  int exit_code = 0;
  nlohmann::json report;
};

Verified Verify(const LocalNetwork& net, const std::string& as_org, const std::string& node) {
  RunResult r = net.Casectl(as_org, {"-o", "json", "audit", "verify", "--node", node});
  INFO(r.out << r.err);
  Verified v{r.exit_code, nlohmann::json::parse(r.out, nullptr, false)};
  if (r.exit_code <= 1) REQUIRE_FALSE(v.report.is_discarded());
  return v;
}

std::vector<std::pair<std::string, uint64_t>> Problems(const nlohmann::json& report) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& p : report["problems"]) out.emplace_back(p["kind"], p["seq"]);
  return out;
}

bool Has(const nlohmann::json& report, const std::string& kind, uint64_t seq) {
  for (const auto& p : Problems(report)) {
    if (p.first == kind && p.second == seq) return true;
  }
  return false;
}


std::string EntryKey(uint64_t seq) {
  std::string k = "e";
  AppendU64(k, seq);
  return k;
}

store::Record AuditRecord(uint64_t seq, std::string value) {
  return store::Record{store::Family::kAudit, EntryKey(seq), keys::DataKeyRef{keys::DataKeyKind::kNode, {}},
                       std::move(value), std::nullopt};
}

}  // namespace

TEST_CASE("the auditor verifies a node's log clean, and every read is itself logged", "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  SchoolAsks(net);
  SchoolAsks(net);
  const Verified first = Verify(net, "auditor", "jeugdhulp");
  REQUIRE(first.exit_code == 0);
  REQUIRE(first.report["clean"] == true);
  const uint64_t size = first.report["tree_size"];
  REQUIRE(size >= 5);  // a policy load, pseudonym evaluations, lookups
  REQUIRE(first.report["entries_verified"] == size);
  REQUIRE(first.report["witnesses"].size() >= 2);  // cosigned by other nodes, checked with their manifest keys

  // Again: the log only grew, and is proved consistent with the first check.
  SchoolAsks(net);
  const Verified second = Verify(net, "auditor", "jeugdhulp");
  REQUIRE(second.exit_code == 0);
  REQUIRE(second.report["consistent_with_size"] == size);
  REQUIRE(second.report["tree_size"].get<uint64_t>() > size);

  // Only the auditor may read a log: the school's node is refused by the policy.
  RunResult school = net.Casectl("school", {"audit", "verify", "--node", "jeugdhulp"});
  REQUIRE(school.exit_code == 3);
  REQUIRE(school.err.find("NO_MATCHING_RULE") != std::string::npos);

  net.Stop("jeugdhulp");
  int audit_reads = 0, refused = 0;
  for (const auto& d : StoredDecisions(net, "jeugdhulp")) {
    if (d.action() != "audit.read") continue;
    if (d.requester_org() == "auditor" && d.allowed()) ++audit_reads;
    if (d.requester_org() == "school" && !d.allowed()) ++refused;
  }
  REQUIRE(audit_reads >= 4);  // two checkpoints and at least two pages
  REQUIRE(refused == 1);
}

TEST_CASE("a changed, a deleted and two swapped entries are reported by sequence number", "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  for (int i = 0; i < 3; ++i) SchoolAsks(net);
  REQUIRE(Verify(net, "auditor", "gemeente").exit_code == 0);
  net.Stop("gemeente");
  {
    NodeStore s = OpenNodeStore(net, "gemeente");
    // Seq 2: one field changed, the entry still well formed.
    auto two = s.store->Get(store::Family::kAudit, EntryKey(2));
    REQUIRE(two.ok());
    v1::AuditEntry e;
    REQUIRE(e.ParseFromString(*two));
    e.set_time_unix_ms(e.time_unix_ms() + 1);
    REQUIRE(s.store->Put(AuditRecord(2, e.SerializeAsString())).ok());
    // Seq 3 deleted; 4 and 5 swapped.
    REQUIRE(s.store->Delete(store::Family::kAudit, EntryKey(3)).ok());
    auto four = s.store->Get(store::Family::kAudit, EntryKey(4));
    auto five = s.store->Get(store::Family::kAudit, EntryKey(5));
    REQUIRE(four.ok());
    REQUIRE(five.ok());
    REQUIRE(s.store->Put(AuditRecord(4, *five)).ok());
    REQUIRE(s.store->Put(AuditRecord(5, *four)).ok());
  }
  net.Start("gemeente");
  const Verified v = Verify(net, "auditor", "gemeente");
  INFO(v.report.dump());
  REQUIRE(v.exit_code == 1);
  REQUIRE(v.report["clean"] == false);
  REQUIRE(Has(v.report, "ROOT_MISMATCH", 0));
  REQUIRE(Has(v.report, "ENTRY_CHANGED", 2));
  REQUIRE(Has(v.report, "ENTRY_MISSING", 3));
  REQUIRE(Has(v.report, "ENTRY_OUT_OF_PLACE", 4));
  REQUIRE(Has(v.report, "ENTRY_OUT_OF_PLACE", 5));
  REQUIRE(Has(v.report, "ENTRY_CHANGED", 4));
  REQUIRE(Has(v.report, "ENTRY_CHANGED", 5));
  // Nothing else is blamed: every other entry passes its proof.
  for (const auto& [kind, seq] : Problems(v.report)) {
    if (kind != "ROOT_MISMATCH") REQUIRE((seq >= 2 && seq <= 5));
  }
}

TEST_CASE("a node restarted from an older backup is caught: its log no longer extends the one verified",
          "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  SchoolAsks(net);
  const std::string backup = net.dir() + "/politie-backup";
  REQUIRE(net.Casectl("politie", {"node", "backup", backup}).exit_code == 0);
  for (int i = 0; i < 3; ++i) SchoolAsks(net);
  const Verified before = Verify(net, "auditor", "politie");
  REQUIRE(before.exit_code == 0);

  net.Stop("politie");
  std::filesystem::rename(net.NodeDir("politie") + "/data/records", net.NodeDir("politie") + "/data/records.new");
  RunResult restored =
      Run({CasenodeBin(), "--config", "casenode.toml", "--restore", backup}, net.NodeDir("politie"));
  INFO(restored.err);
  REQUIRE(restored.exit_code == 0);
  net.Start("politie");

  // Its witnesses hold a larger checkpoint: the node learns it at start and
  // says so; the witnesses refuse to cosign and keep the evidence.
  const nlohmann::json status = net.WaitForStatus("politie", [](const nlohmann::json& s) {
    return s["audit"]["behind"].size() == 4;
  });
  for (const auto& v : status["audit"]["behind"]) {
    REQUIRE(v["known_size"].get<uint64_t>() >= before.report["tree_size"].get<uint64_t>());
  }
  net.WaitForStatus("gemeente", [](const nlohmann::json& s) {
    for (const auto& v : s["audit"]["refused"]) {
      if (v["org"] == "politie") return true;
    }
    return false;
  });

  const Verified after = Verify(net, "auditor", "politie");
  INFO(after.report.dump());
  REQUIRE(after.exit_code == 1);
  REQUIRE(Has(after.report, "CHECKPOINT_UNWITNESSED", 0));
  REQUIRE(Has(after.report, "INCONSISTENT_HISTORY", before.report["tree_size"].get<uint64_t>()));

  // Nothing to declare where no witness is behind.
  RunResult none = net.Casectl("gemeente", {"node", "declare-gap", "--declared-by", "ops-7"});
  REQUIRE(none.exit_code != 0);
  REQUIRE(none.err.find("no gap to declare") != std::string::npos);

  // The operator declares the gap: an entry of the log naming what each
  // witness held. The witnesses cosign the new history, every audit reports
  // the gap, and the witnesses keep their evidence of the fork.
  const nlohmann::json declared = net.CasectlJson("politie", {"node", "declare-gap", "--declared-by", "ops-7"});
  const uint64_t gap_seq = declared["gap_seq"];
  net.WaitForStatus("politie", [](const nlohmann::json& s) {
    return s["audit"]["behind"].empty() && s["audit"]["cosignatures"].get<int>() >= 2;
  });
  const Verified gapped = Verify(net, "auditor", "politie");
  INFO(gapped.report.dump());
  REQUIRE(gapped.exit_code == 1);
  REQUIRE(Has(gapped.report, "GAP_DECLARED", gap_seq));
  REQUIRE(Problems(gapped.report).size() == 1);  // witnessed again; the gap explains the changed history
  bool evidence_kept = false;
  const nlohmann::json gemeente_status = net.CasectlJson("gemeente", {"node", "status"});
  INFO(gemeente_status.dump());
  for (const auto& v : gemeente_status["audit"]["refused"]) {
    evidence_kept = evidence_kept || v["org"] == "politie";
  }
  REQUIRE(evidence_kept);
  // The log grows on from there and is witnessed as usual; the gap stays reported.
  SchoolAsks(net);
  const Verified later = Verify(net, "auditor", "politie");
  REQUIRE(Has(later.report, "GAP_DECLARED", gap_seq));
  REQUIRE(Problems(later.report).size() == 1);
}

namespace {

Verified Replay(const LocalNetwork& net, const std::string& node) {
  RunResult r = net.Casectl("auditor", {"-o", "json", "audit", "replay", "--node", node});
  INFO(r.out << r.err);
  Verified v{r.exit_code, nlohmann::json::parse(r.out, nullptr, false)};
  REQUIRE_FALSE(v.report.is_discarded());
  return v;
}

}  // namespace

TEST_CASE("replay decides every logged decision again under the policy of its moment, also after a policy change",
          "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  SchoolAsks(net);
  // jeugdhulp adds a local rule and restarts: later decisions fall under a
  // new policy. Replay must use each decision's own recorded policy.
  net.Stop("jeugdhulp");
  REQUIRE(WriteFileAtomic(net.NodeDir("jeugdhulp") + "/local-policy.toml",
                          "[[rule]]\nid = \"lokaal-geen-politie-ping\"\neffect = \"deny\"\n"
                          "description = \"A local rule added later.\"\nroles = [\"politie\"]\n"
                          "actions = [\"node.ping\"]\npurposes = [\"netwerkbeheer\"]\n",
                          0644)
              .ok());
  std::string config = *ReadFile(net.NodeDir("jeugdhulp") + "/casenode.toml");
  const auto at = config.find("local = []");
  REQUIRE(at != std::string::npos);
  config.replace(at, 10, "local = ['local-policy.toml']");
  REQUIRE(WriteFileAtomic(net.NodeDir("jeugdhulp") + "/casenode.toml", config, 0600).ok());
  net.Start("jeugdhulp");
  SchoolAsks(net);
  net.Casectl("politie", {"node", "ping", "jeugdhulp"});  // denied by the new local rule, and logged

  const Verified v = Replay(net, "jeugdhulp");
  INFO(v.report.dump());
  REQUIRE(v.exit_code == 0);
  REQUIRE(v.report["clean"] == true);
  REQUIRE(v.report["policies_loaded"] == 2);
  REQUIRE(v.report["decisions_replayed"].get<uint64_t>() >= 4);
}

TEST_CASE("replay reports a logged decision its policy does not give, and one under a policy never loaded",
          "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  SchoolAsks(net);
  REQUIRE(Replay(net, "gemeente").exit_code == 0);
  net.Stop("gemeente");
  uint64_t wrong_seq = 0, unknown_seq = 0;
  {
    // What a gate with a bug (or a tampered binary) would log: entries
    // appended properly, so the log itself verifies, but decisions the
    // policy does not give.
    v1::DecisionRecord logged;
    for (const auto& d : StoredDecisions(net, "gemeente")) {
      if (!d.allowed() || d.canonical_request().empty()) continue;
      logged = d;
      break;
    }
    NodeStore s = OpenNodeStore(net, "gemeente");
    auto log = node::AuditLog::Open(*s.store);
    REQUIRE(log.ok());
    REQUIRE_FALSE(logged.canonical_request().empty());
    // The same request, but the school now asks for justitieel data: the policy denies it.
    auto request = policy::ParseCanonicalRequest(logged.canonical_request());
    REQUIRE(request.ok());
    request->requester_org = "school";
    request->requester_role = "school";
    request->categories = {"justitieel"};
    v1::AuditEntry forged;
    *forged.mutable_decision() = logged;
    forged.mutable_decision()->set_canonical_request(policy::CanonicalRequest(*request));
    forged.mutable_decision()->set_request_digest(policy::RequestDigest(*request));
    wrong_seq = (*log)->head().size;
    REQUIRE((*log)->Append(forged, store::Durability::kSynced).ok());
    forged.mutable_decision()->set_policy_hash(std::string(64, 'f'));
    unknown_seq = (*log)->head().size;
    REQUIRE((*log)->Append(forged, store::Durability::kSynced).ok());
  }
  net.Start("gemeente");
  const Verified v = Replay(net, "gemeente");
  INFO(v.report.dump());
  REQUIRE(v.exit_code == 1);
  REQUIRE(Has(v.report, "DECISION_DIFFERS", wrong_seq));
  REQUIRE(Has(v.report, "POLICY_UNKNOWN", unknown_seq));
  REQUIRE(Problems(v.report).size() == 2);  // the log itself is intact and consistent
}

namespace {

Verified Reconcile(const LocalNetwork& net) {
  // 3 s covers the nodes' peer timeout (2 s).
  RunResult r = net.Casectl("auditor", {"-o", "json", "audit", "reconcile", "--settle", "3"});
  INFO(r.out << r.err);
  Verified v{r.exit_code, nlohmann::json::parse(r.out, nullptr, false)};
  REQUIRE_FALSE(v.report.is_discarded());
  return v;
}

// Reconciles until the calls made so far are old enough to be judged.
Verified ReconcileSettled(const LocalNetwork& net, uint64_t min_paired) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    Verified v = Reconcile(net);
    if (v.report["calls_paired"].get<uint64_t>() >= min_paired) return v;
    if (std::chrono::steady_clock::now() > deadline) FAIL("never settled: " << v.report.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

TEST_CASE("reconcile pairs both sides of every Peer call across the network, and reports a one-sided one",
          "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  for (int i = 0; i < 3; ++i) SchoolAsks(net);  // derivations and lookups: at least 3 x (2 + 3) calls
  const Verified clean = ReconcileSettled(net, 15);
  INFO(clean.report.dump());
  REQUIRE(clean.exit_code == 0);
  REQUIRE(clean.report["clean"] == true);
  REQUIRE(clean.report["nodes"].size() == 5);

  // jeugdhulp's log gains a decision on a call school never made (what a
  // node would log to cover a disclosure it invents, or a forged entry).
  net.Stop("jeugdhulp");
  uint64_t forged_seq = 0;
  {
    v1::DecisionRecord logged;
    for (const auto& d : StoredDecisions(net, "jeugdhulp")) {
      if (d.requester_org() == "school" && d.allowed()) logged = d;
    }
    REQUIRE(logged.requester_org() == "school");
    NodeStore s = OpenNodeStore(net, "jeugdhulp");
    const int64_t a_minute_ago = node::AuditLog::SystemNowMs() - 60'000;
    auto log = node::AuditLog::Open(*s.store, [&] { return a_minute_ago; });
    REQUIRE(log.ok());
    v1::AuditEntry forged;
    forged.set_trace_id("4bf92f3577b34da6a3ce929d0e0e4736");
    forged.set_span_id("00f067aa0ba902b7");
    *forged.mutable_decision() = logged;
    forged_seq = (*log)->head().size;
    REQUIRE((*log)->Append(forged, store::Durability::kSynced).ok());
  }
  net.Start("jeugdhulp");
  const Verified v = Reconcile(net);
  INFO(v.report.dump());
  REQUIRE(v.exit_code == 1);
  REQUIRE(v.report["one_sided"].size() == 1);
  const auto& c = v.report["one_sided"][0];
  REQUIRE(c["logged_by"] == "jeugdhulp");
  REQUIRE(c["caller"] == "school");
  REQUIRE(c["seq"] == forged_seq);
  REQUIRE(c["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736");
}

namespace {

constexpr char kAuditOtherBsn[] = "628194821";

// `casectl audit inzage` at the auditor's node, the BSN on standard input.
nlohmann::json Inzage(const LocalNetwork& net, const std::string& bsn) {
  RunResult r = net.Casectl("auditor", {"-o", "json", "audit", "inzage"}, bsn + "\n");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find(bsn) == std::string::npos);
  return nlohmann::json::parse(r.out);
}

// How many entries of `org` in the inzage are decisions on `action`, and consent events.
std::pair<int, int> Count(const nlohmann::json& inzage, const std::string& org, const std::string& action) {
  int decisions = 0, consents = 0;
  for (const auto& n : inzage["nodes"]) {
    if (n["org"] != org) continue;
    for (const auto& e : n["entries"]) {
      if (e.contains("decision") && e["decision"]["action"] == action) ++decisions;
      if (e.contains("consent")) ++consents;
    }
  }
  return {decisions, consents};
}

}  // namespace

TEST_CASE("inzage lists exactly what every node logged about one child, and nothing about another",
          "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  SchoolAsks(net);  // the child
  RunResult other = net.Casectl("school", {"-o", "json", "signal", "check"}, std::string(kAuditOtherBsn) + "\n");
  REQUIRE(other.exit_code == 0);
  RunResult again = net.Casectl("school", {"-o", "json", "signal", "check"}, std::string(kAuditOtherBsn) + "\n");
  REQUIRE(again.exit_code == 0);

  // jeugdhulp records a consent for the child, and a verifier asks about it.
  RunResult derived =
      net.Casectl("jeugdhulp", {"-o", "json", "pseudonym", "derive", "--purpose", "casusoverleg"}, std::string(kAuditBsn) + "\n");
  REQUIRE(derived.exit_code == 0);
  const std::string subject = nlohmann::json::parse(derived.out)["pseudonym"];
  const nlohmann::json receipt = net.CasectlJson(
      "jeugdhulp", {"consent", "record", "--subject", subject, "--consenter", "child", "--birth-date", "2009-01-15",
                    "--purpose", "casusoverleg", "--category", "zorg", "--recipient-role", "gemeente",
                    "--recorded-by", "staff-7f3a"});
  const std::string id = receipt["receipt"]["receipt_id"];
  RunResult shown = net.Casectl("jeugdhulp", {"consent", "show", id, "-o", "json"});
  REQUIRE(WriteFileAtomic(net.dir() + "/receipt.json", shown.out, 0600).ok());
  REQUIRE(net.Casectl("gemeente", {"consent", "verify", net.dir() + "/receipt.json"}).exit_code == 0);

  const nlohmann::json child = Inzage(net, kAuditBsn);
  const nlohmann::json another = Inzage(net, kAuditOtherBsn);
  for (const std::string org : {"jeugdhulp", "gemeente"}) {
    INFO(org << ": " << child.dump());
    REQUIRE(Count(child, org, "signal.lookup").first == 1);    // the school asked once about this child
    REQUIRE(Count(another, org, "signal.lookup").first == 2);  // and twice about the other
  }
  // Politie takes no part in early detection: never asked, nothing logged about either child.
  REQUIRE(Count(child, "politie", "signal.lookup").first == 0);
  REQUIRE(Count(another, "politie", "signal.lookup").first == 0);
  // Recorded, and its state answered to the gemeente: only in this child's inzage.
  REQUIRE(Count(child, "jeugdhulp", "").second == 2);
  REQUIRE(Count(another, "jeugdhulp", "").second == 0);
  for (const auto& n : child["nodes"]) {
    REQUIRE(n["error"] == "");
    REQUIRE(n["problems"].empty());
    for (const auto& e : n["entries"]) REQUIRE_FALSE(e.contains("subject"));  // the seal stays at the node
  }

  // In Dutch for the person who asked.
  RunResult text = net.Casectl("auditor", {"audit", "inzage"}, std::string(kAuditBsn) + "\n");
  REQUIRE(text.exit_code == 0);
  REQUIRE(text.out.find("school vroeg of het kind bekend is in het netwerk") != std::string::npos);
  REQUIRE(text.out.find("toestemming vastgelegd") != std::string::npos);
  REQUIRE(text.out.find("gemeente vroeg of toestemming") != std::string::npos);
}

TEST_CASE("every disclosure follows an allowing decision on its call, and replay reports one that does not",
          "[integration][audit]") {
  LocalNetwork net;
  net.StartAll();
  RunResult reg = net.Casectl("jeugdhulp", {"signal", "register", "--category", "zorg"},
                              std::string(kAuditBsn) + "\nM. Bakker, 036-5399999\n");
  INFO(reg.err);
  REQUIRE(reg.exit_code == 0);
  SchoolAsks(net);  // a match at jeugdhulp: its answer discloses the signal
  REQUIRE(Replay(net, "jeugdhulp").exit_code == 0);
  net.Stop("jeugdhulp");
  uint64_t unasked_seq = 0, wider_seq = 0;
  {
    v1::AuditEntry real;
    for (const auto& e : StoredEntries(net, "jeugdhulp")) {
      if (e.has_disclosure() && e.disclosure().method() == "Peer.LookupSignal") real = e;
    }
    REQUIRE(real.disclosure().to_org() == "school");
    REQUIRE(real.disclosure().items() == 1);
    REQUIRE(real.disclosure().categories(0) == "signaal");
    NodeStore s = OpenNodeStore(net, "jeugdhulp");
    auto log = node::AuditLog::Open(*s.store);
    REQUIRE(log.ok());
    // A disclosure on a call nobody decided, and one wider than its decision.
    v1::AuditEntry unasked = real;
    unasked.set_trace_id(std::string(32, 'b'));
    unasked_seq = (*log)->head().size;
    REQUIRE((*log)->Append(unasked, store::Durability::kSynced).ok());
    v1::AuditEntry wider = real;
    wider.mutable_disclosure()->add_categories("justitieel");
    wider_seq = (*log)->head().size;
    REQUIRE((*log)->Append(wider, store::Durability::kSynced).ok());
  }
  net.Start("jeugdhulp");
  const Verified v = Replay(net, "jeugdhulp");
  INFO(v.report.dump());
  REQUIRE(v.exit_code == 1);
  REQUIRE(Has(v.report, "DISCLOSURE_WITHOUT_DECISION", unasked_seq));
  REQUIRE(Has(v.report, "DISCLOSURE_WITHOUT_DECISION", wider_seq));
  REQUIRE(Problems(v.report).size() == 2);
}

TEST_CASE("the number of witnesses an auditor requires is the policy's", "[integration][audit]") {
  // The default policy asks 2; this network's asks every other node (4).
  TempDir tmp;
  const std::string dir = tmp.path("policy");
  std::filesystem::create_directories(dir);
  for (const auto& e : std::filesystem::directory_iterator(CASENODE_SOURCE_DIR "/policy/network")) {
    if (e.path().extension() != ".toml") continue;
    std::string text = *ReadFile(e.path().string());
    if (e.path().filename() == "00-vocabulary.toml") {
      REQUIRE(text.find("witnesses = 2") != std::string::npos);
      text.replace(text.find("witnesses = 2"), 13, "witnesses = 4");
    }
    REQUIRE(WriteFileAtomic(dir + "/" + e.path().filename().string(), text, 0644).ok());
  }
  LocalNetwork net(LocalNetwork::AllOrgs(), {"--policy", dir});
  net.StartAll();
  SchoolAsks(net);
  const Verified all = Verify(net, "auditor", "gemeente");
  REQUIRE(all.exit_code == 0);
  REQUIRE(all.report["witnesses"].size() == 4);
  // One witness down: 3 of the 4 required.
  net.Stop("politie");
  const Verified three = Verify(net, "auditor", "gemeente");
  INFO(three.report.dump());
  REQUIRE(three.exit_code == 1);
  REQUIRE(Has(three.report, "CHECKPOINT_UNWITNESSED", 0));
}
