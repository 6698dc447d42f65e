// Integration: consent receipts recorded at one node and verified at another,
// with revocation asked of the issuer over mTLS.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/file.h"
#include "base/time.h"
#include "tests/support/canary.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;

namespace {

// A recognisable pseudonym: its hex and raw bytes serve as canaries.
const std::string kConsentSubjectHex = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

// The date of birth of a child who turned `years` two months ago.
std::string BirthDate(int years) {
  using namespace std::chrono;
  year_month_day d{floor<days>(system_clock::now()) - days(60)};
  d = year_month_day{d.year() - std::chrono::years(years), d.month(), d.day()};
  if (!d.ok()) d = year_month_day{d.year(), d.month(), day(28)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

std::vector<std::string> RecordArgs(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"consent", "record", "--subject", kConsentSubjectHex, "--category", "zorg",
                                   "--recipient-role", "gemeente", "--recorded-by", "staff-7f3a",
                                   "--evidence", "DMS-2026-0042"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (std::find(extra.begin(), extra.end(), "--purpose") == extra.end()) {
    args.insert(args.end(), {"--purpose", "casusoverleg"});
  }
  return args;
}

// A copy of the default network policy with `edit` applied to one file.
std::string PolicyVariant(const TempDir& tmp, const std::string& file, const std::string& from, const std::string& to) {
  const std::string dir = tmp.path("policy");
  std::filesystem::create_directories(dir);
  for (const auto& e : std::filesystem::directory_iterator(CASENODE_SOURCE_DIR "/policy/network")) {
    if (e.path().extension() != ".toml") continue;
    std::string text = *ReadFile(e.path().string());
    if (e.path().filename() == file) {
      REQUIRE(text.find(from) != std::string::npos);
      text.replace(text.find(from), from.size(), to);
    }
    REQUIRE(WriteFileAtomic(dir + "/" + e.path().filename().string(), text, 0644).ok());
  }
  return dir;
}

// Records at jeugdhulp and returns the file that `consent show -o json` wrote.
std::string RecordReceipt(const LocalNetwork& net, const std::vector<std::string>& extra, const std::string& name) {
  const auto entry = net.CasectlJson("jeugdhulp", RecordArgs(extra));
  const std::string id = entry["receipt"]["receipt_id"];
  REQUIRE(id.size() == 32);
  RunResult shown = net.Casectl("jeugdhulp", {"consent", "show", id, "-o", "json"});
  REQUIRE(shown.exit_code == 0);
  const std::string path = net.dir() + "/" + name + ".json";
  REQUIRE(WriteFileAtomic(path, shown.out, 0600).ok());
  return path;
}

// Validity flags for a receipt that ends in 5 seconds: one that has already
// ended cannot be recorded, so tests of expiry wait for it.
std::vector<std::string> EndingSoon() {
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return {"--valid-from", FormatRfc3339(now - std::chrono::seconds(60)), "--valid-until",
          FormatRfc3339(now + std::chrono::seconds(5))};
}

// Polls `ask` until it returns `want` (at most 15 s): a receipt's end is a condition to wait for.
template <class F>
auto WaitFor(F ask, const decltype(ask())& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  auto got = ask();
  while (got != want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    got = ask();
  }
  return got;
}

std::string VerifyAt(const LocalNetwork& net, const std::string& org, const std::string& file, int* exit_code) {
  const auto r = net.CasectlJson(org, {"consent", "verify", file}, exit_code);
  return r["status"];
}

}  // namespace

TEST_CASE("consent receipts verify at another node: valid, forged, expired, age rule, revoked, unreachable",
          "[integration][consent]") {
  TempDir tmp;  // a network that reuses no issuer answer: revocation is seen at once
  const std::string policy = PolicyVariant(tmp, "00-vocabulary.toml", "status_cache_seconds = 60",
                                           "status_cache_seconds = 0");
  LocalNetwork net({"jeugdhulp", "gemeente"}, {"--policy", policy});
  net.StartAll();
  int code = -1;

  const std::string valid = RecordReceipt(net, {"--consenter", "parent", "--consenter", "child", "--birth-date", BirthDate(13)}, "valid");
  REQUIRE(VerifyAt(net, "gemeente", valid, &code) == "valid");
  REQUIRE(code == 0);

  std::string forged_text = *ReadFile(valid);
  forged_text.replace(forged_text.find("\"zorg\""), 6, "\"justitieel\"");
  REQUIRE(WriteFileAtomic(net.dir() + "/forged.json", forged_text, 0600).ok());
  REQUIRE(VerifyAt(net, "gemeente", net.dir() + "/forged.json", &code) == "forged");
  REQUIRE(code == 3);

  std::vector<std::string> ending = {"--consenter", "child", "--birth-date", BirthDate(23)};
  for (const std::string& a : EndingSoon()) ending.push_back(a);
  const std::string expired = RecordReceipt(net, ending, "expired");
  REQUIRE(WaitFor([&] { return VerifyAt(net, "gemeente", expired, &code); }, std::string("expired")) == "expired");

  // A receipt the age rule refuses is refused when it is made, naming the field.
  const RunResult parent_only = net.Casectl("jeugdhulp", RecordArgs({"--consenter", "parent", "--birth-date", BirthDate(13)}));
  REQUIRE(parent_only.exit_code == 2);
  REQUIRE(parent_only.err.find("consenters: at age 13") != std::string::npos);

  const auto entry = nlohmann::json::parse(*ReadFile(valid));
  const std::string id = entry["receipt"]["receipt_id"];
  const auto revoked = net.CasectlJson("jeugdhulp", {"consent", "revoke", id, "--revoked-by", "staff-7f3a"});
  REQUIRE(revoked["revoked"] == true);
  REQUIRE(VerifyAt(net, "gemeente", valid, &code) == "revoked");
  REQUIRE(VerifyAt(net, "jeugdhulp", valid, &code) == "revoked");  // the issuer answers for itself

  const auto listed = net.CasectlJson("jeugdhulp", {"consent", "list", "--subject", kConsentSubjectHex});
  REQUIRE(listed["entries"].size() == 2);

  // The issuer stops answering: fail closed.
  const std::string another = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "another");
  REQUIRE(VerifyAt(net, "gemeente", another, &code) == "valid");
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  REQUIRE(VerifyAt(net, "gemeente", another, &code) == "issuer_unreachable");
  REQUIRE(code == 3);
}

TEST_CASE("an issuer's answer is reused for the policy's cache time, and stale answers only if the policy allows",
          "[integration][consent]") {
  TempDir tmp;
  const std::string policy = PolicyVariant(tmp, "00-vocabulary.toml", "on_issuer_unreachable = \"deny\"",
                                           "on_issuer_unreachable = \"allow_stale\"");
  LocalNetwork net({"jeugdhulp", "gemeente"}, {"--policy", policy});
  net.StartAll();
  int code = -1;
  const std::string receipt = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "cached");
  REQUIRE(VerifyAt(net, "gemeente", receipt, &code) == "valid");
  const std::string id = nlohmann::json::parse(*ReadFile(receipt))["receipt"]["receipt_id"];
  REQUIRE(net.Casectl("jeugdhulp", {"consent", "revoke", id, "--revoked-by", "staff-7f3a"}).exit_code == 0);
  // Within status_cache_seconds (60) the cached answer stands: the documented bound.
  REQUIRE(VerifyAt(net, "gemeente", receipt, &code) == "valid");
  // With the issuer gone, this policy allows the stale answer instead of failing closed.
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  REQUIRE(VerifyAt(net, "gemeente", receipt, &code) == "valid");
}

TEST_CASE("a real node decides a Peer call on the consent receipts attached to it", "[integration][consent]") {
  // A network whose ping rule requires consent, so a ping carries the consent machinery end to end.
  TempDir tmp;
  const std::string policy = PolicyVariant(
      tmp, "10-netwerk.toml", "actions = [\"node.ping\"]\npurposes = [\"netwerkbeheer\"]\n",
      "actions = [\"node.ping\"]\npurposes = [\"netwerkbeheer\"]\nconsent = \"required\"\n");
  std::string vocab_dir = policy;  // same directory; also reuse no issuer answer
  {
    std::string text = *ReadFile(vocab_dir + "/00-vocabulary.toml");
    text.replace(text.find("status_cache_seconds = 60"), 25, "status_cache_seconds = 0");
    REQUIRE(WriteFileAtomic(vocab_dir + "/00-vocabulary.toml", text, 0644).ok());
  }
  LocalNetwork net({"school", "jeugdhulp", "gemeente"}, {"--policy", policy});
  for (const std::string org : {"gemeente", "jeugdhulp", "school"}) net.Start(org);  // responders first

  auto ping = [&](const std::vector<std::string>& receipts) {
    std::vector<std::string> args = {"node", "ping", "gemeente", "--subject", kConsentSubjectHex};
    for (const auto& r : receipts) args.insert(args.end(), {"--consent", r});
    return net.CasectlJson("school", args);
  };
  REQUIRE(ping({})["error"] == "PERMISSION_DENIED: CONSENT_MISSING");

  const std::vector<std::string> scope = {"--purpose", "netwerkbeheer", "--recipient-role", "school"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), scope.begin(), scope.end());
    return extra;
  };
  const std::string valid = RecordReceipt(net, with({"--consenter", "child", "--birth-date", BirthDate(16)}), "ping-valid");
  REQUIRE(ping({valid})["reachable"] == true);

  std::vector<std::string> ending = {"--consenter", "child", "--birth-date", BirthDate(23)};
  for (const std::string& a : EndingSoon()) ending.push_back(a);
  const std::string expired = RecordReceipt(net, with(ending), "ping-expired");
  const std::string kExpired = "PERMISSION_DENIED: CONSENT_EXPIRED";
  REQUIRE(WaitFor([&] { return ping({expired}).value("error", std::string()); }, kExpired) == kExpired);

  const std::string other_purpose = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "ping-scope");
  REQUIRE(ping({other_purpose})["error"] == "PERMISSION_DENIED: CONSENT_OUT_OF_SCOPE");

  // The same valid receipt does not cover a ping about another child.
  const std::string other_child(64, 'b');
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente", "--subject", other_child, "--consent", valid})["error"] ==
          "PERMISSION_DENIED: CONSENT_OUT_OF_SCOPE");
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente", "--consent", valid})["error"] ==
          "PERMISSION_DENIED: CONSENT_OUT_OF_SCOPE");

  const std::string id = nlohmann::json::parse(*ReadFile(valid))["receipt"]["receipt_id"];
  REQUIRE(net.Casectl("jeugdhulp", {"consent", "revoke", id, "--revoked-by", "staff-7f3a"}).exit_code == 0);
  REQUIRE(ping({valid})["error"] == "PERMISSION_DENIED: CONSENT_REVOKED");

  std::string forged = *ReadFile(valid);
  forged.replace(forged.find("\"netwerkbeheer\""), 15, "\"casusoverleg\"");
  REQUIRE(WriteFileAtomic(net.dir() + "/ping-forged.json", forged, 0600).ok());
  REQUIRE(ping({net.dir() + "/ping-forged.json"})["error"] == "PERMISSION_DENIED: CONSENT_FORGED");

  // An issuer that cannot be reached: fail closed.
  const std::string fresh = RecordReceipt(net, with({"--consenter", "child", "--birth-date", BirthDate(16)}), "ping-fresh");
  net.process("jeugdhulp").Signal(SIGSTOP);
  REQUIRE(ping({fresh})["error"] == "PERMISSION_DENIED: CONSENT_ISSUER_UNREACHABLE");
  net.process("jeugdhulp").Signal(SIGCONT);
}

TEST_CASE("consent records reveal no pseudonym, staff content or evidence in files or logs", "[integration][consent][canary]") {
  LocalNetwork net({"jeugdhulp", "gemeente"});
  net.StartAll();
  const std::string id = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "r");
  REQUIRE(!id.empty());
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  std::string raw_subject;
  for (size_t i = 0; i < kConsentSubjectHex.size(); i += 2) {
    raw_subject.push_back(static_cast<char>(std::stoi(kConsentSubjectHex.substr(i, 2), nullptr, 16)));
  }
  const std::vector<std::string> canaries = {kConsentSubjectHex, raw_subject, "DMS-2026-0042", "staff-7f3a"};
  std::vector<std::string> hits = testing::FindCanaries(net.NodeDir("jeugdhulp") + "/data", canaries);
  for (const std::string log : {"/casenode.log", "/stdout.log"}) {
    const std::string text = *ReadFile(net.NodeDir("jeugdhulp") + log);
    for (const auto& c : canaries) {
      if (text.find(c) != std::string::npos) hits.push_back(log + ": " + c);
    }
  }
  INFO((hits.empty() ? "" : hits.front()));
  REQUIRE(hits.empty());
}

TEST_CASE("a consent status is answered only once its decision is on disk", "[integration][consent]") {
  LocalNetwork net({"jeugdhulp", "gemeente"});
  net.StartAll();
  std::vector<std::string> ids;
  v1::ConsentReceiptList attached;  // for pings about no child that still carry a receipt
  for (int i = 0; i < 5; ++i) {
    const auto entry = net.CasectlJson("jeugdhulp", RecordArgs({"--consenter", "child", "--birth-date", BirthDate(16)}));
    ids.push_back(entry["receipt"]["receipt_id"]);
    REQUIRE(google::protobuf::util::JsonStringToMessage(entry["receipt"].dump(), attached.add_receipts()).ok());
  }
  // Ask as gemeente, then kill jeugdhulp the moment the answers are in: no
  // answer may outlive its decision record.
  auto stub = testing::PeerStubAs(net, "jeugdhulp", "gemeente");
  std::vector<std::string> traces;
  for (const auto& id : ids) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    const std::string trace = std::string(30, 'a') + std::to_string(10 + traces.size());
    ctx.AddMetadata("traceparent", "00-" + trace + "-00f067aa0ba902b7-01");
    v1::ConsentStatusRequest req;
    req.set_receipt_id(id);
    v1::ConsentStatusResponse resp;
    REQUIRE(stub->ConsentStatus(&ctx, req, &resp).ok());
    REQUIRE(resp.state() == v1::CONSENT_ACTIVE);
    traces.push_back(trace);
  }
  // A ping about no child is buffered, but not once it carries consent receipts.
  std::vector<std::string> ping_traces;
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    const std::string trace = std::string(30, 'b') + std::to_string(10 + i);
    ctx.AddMetadata("traceparent", "00-" + trace + "-00f067aa0ba902b7-01");
    ctx.AddMetadata("casenode-consent-bin", attached.SerializeAsString());
    v1::PingResponse resp;
    stub->Ping(&ctx, v1::PingRequest(), &resp);  // allowed or denied: either way decided with receipts
    ping_traces.push_back(trace);
  }
  net.process("jeugdhulp").Signal(SIGKILL);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(10)) == -1);
  const auto decisions = testing::StoredDecisions(net, "jeugdhulp");
  for (const auto& trace : traces) {
    INFO("trace " << trace);
    REQUIRE(std::any_of(decisions.begin(), decisions.end(), [&](const v1::DecisionRecord& d) {
      return d.trace_id() == trace && d.action() == "consent.status" && d.allowed();
    }));
  }
  for (const auto& trace : ping_traces) {
    INFO("ping trace " << trace);
    REQUIRE(std::any_of(decisions.begin(), decisions.end(), [&](const v1::DecisionRecord& d) {
      return d.trace_id() == trace && d.action() == "node.ping";
    }));
  }
}

namespace {

// The verdict once the issuer answers at all (after a start it first asks its witnesses).
std::string VerifyWhenAnswered(const LocalNetwork& net, const std::string& org, const std::string& file) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    int code = -1;
    const std::string status = VerifyAt(net, org, file, &code);
    if (status != "issuer_unreachable") return status;
    if (std::chrono::steady_clock::now() > deadline) FAIL("the issuer never answered");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void RestartFromBackup(LocalNetwork& net, const std::string& org, const std::string& backup) {
  net.process(org).Signal(SIGTERM);
  REQUIRE(net.process(org).Wait(std::chrono::seconds(15)) == 0);
  const std::string records = net.NodeDir(org) + "/data/records";
  std::filesystem::rename(records, records + ".lost");
  RunResult restored =
      testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--restore", backup}, net.NodeDir(org));
  INFO(restored.err);
  REQUIRE(restored.exit_code == 0);
  net.Start(org);
}

}  // namespace

TEST_CASE("a restore never revives a revocation: receipts from before it are held until staff confirm them",
          "[integration][consent][audit]") {
  TempDir tmp;
  const std::string policy = PolicyVariant(tmp, "00-vocabulary.toml", "status_cache_seconds = 60",
                                           "status_cache_seconds = 0");
  LocalNetwork net({"jeugdhulp", "gemeente", "auditor"}, {"--policy", policy});
  net.StartAll();
  const std::string kept = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "kept");
  const std::string revoked = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "revoked");
  const std::string backup = net.dir() + "/jeugdhulp-backup";
  REQUIRE(net.Casectl("jeugdhulp", {"node", "backup", backup}).exit_code == 0);

  // Revoked after the backup (no witness need have seen it since).
  const std::string revoked_id = nlohmann::json::parse(*ReadFile(revoked))["receipt"]["receipt_id"];
  REQUIRE(net.CasectlJson("jeugdhulp", {"consent", "revoke", revoked_id, "--revoked-by", "staff-7f3a"})["revoked"] ==
          true);
  int code = -1;
  REQUIRE(VerifyAt(net, "gemeente", revoked, &code) == "revoked");
  // The auditor verifies the log with the revocation: its witnesses cosign it.
  REQUIRE(net.Casectl("auditor", {"-o", "json", "audit", "verify", "--node", "jeugdhulp"}).exit_code == 0);

  // Restored from the copy that still has the receipt active: its key store
  // counted one more revocation than the records hold, so every receipt from
  // before the restore is held.
  RestartFromBackup(net, "jeugdhulp", backup);
  net.WaitForStatus("jeugdhulp", [](const nlohmann::json& s) { return s["audit"]["consent_hold_generation"] == 1; });
  REQUIRE(VerifyWhenAnswered(net, "gemeente", revoked) == "revoked");
  REQUIRE(VerifyWhenAnswered(net, "jeugdhulp", revoked) == "revoked");  // the issuer answers for itself alike
  REQUIRE(VerifyWhenAnswered(net, "gemeente", kept) == "revoked");     // held: it might have been revoked too
  const RunResult text = net.Casectl("jeugdhulp", {"node", "status"});
  REQUIRE(text.out.find("CONSENT HOLD") != std::string::npos);

  // Staff confirm the one they know stands; a receipt recorded now is not held.
  const std::string kept_id = nlohmann::json::parse(*ReadFile(kept))["receipt"]["receipt_id"];
  const auto confirmed = net.CasectlJson("jeugdhulp", {"consent", "confirm", kept_id, "--confirmed-by", "staff-7f3a"});
  REQUIRE(confirmed["confirmed_by"] == "staff-7f3a");
  REQUIRE(VerifyAt(net, "gemeente", kept, &code) == "valid");
  const std::string fresh = RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16)}, "fresh");
  REQUIRE(VerifyAt(net, "gemeente", fresh, &code) == "valid");
  REQUIRE(VerifyAt(net, "gemeente", revoked, &code) == "revoked");

  // A restart sees the same restore again: the hold and the confirmation stand.
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  net.Start("jeugdhulp");
  REQUIRE(VerifyWhenAnswered(net, "gemeente", kept) == "valid");
  REQUIRE(VerifyWhenAnswered(net, "gemeente", revoked) == "revoked");
  REQUIRE(net.CasectlJson("jeugdhulp", {"node", "status"})["audit"]["consent_hold_generation"] == 1);

  // Confirming a receipt that is revoked is refused, naming the reason.
  const auto revoked_again = net.CasectlJson("jeugdhulp", {"consent", "revoke", revoked_id, "--revoked-by", "staff-7f3a"});
  REQUIRE(revoked_again["revoked"] == true);
  const RunResult refused = net.Casectl("jeugdhulp", {"consent", "confirm", revoked_id, "--confirmed-by", "staff-7f3a"});
  REQUIRE(refused.exit_code != 0);
  REQUIRE(refused.err.find("CONSENT_REVOKED") != std::string::npos);
  // One recorded after the restore was never held: nothing to confirm.
  const std::string fresh_id = nlohmann::json::parse(*ReadFile(fresh))["receipt"]["receipt_id"];
  const RunResult not_held = net.Casectl("jeugdhulp", {"consent", "confirm", fresh_id, "--confirmed-by", "staff-7f3a"});
  REQUIRE(not_held.exit_code != 0);
  REQUIRE(not_held.err.find("not held") != std::string::npos);
  // Confirming again (as staff would after an error) logs it again and changes nothing.
  REQUIRE(net.CasectlJson("jeugdhulp", {"consent", "confirm", kept_id, "--confirmed-by", "staff-7f3a"})["confirmed_by"] ==
          "staff-7f3a");
  REQUIRE(VerifyAt(net, "gemeente", kept, &code) == "valid");

  // The log tells the same story: once the operator declares the gap, replay
  // finds every answer given (held, confirmed, revoked) to be what the log's
  // consent events give, and the gap is the only problem.
  REQUIRE(net.Casectl("jeugdhulp", {"node", "declare-gap", "--declared-by", "ops-7"}).exit_code == 0);
  net.WaitForStatus("jeugdhulp", [](const nlohmann::json& s) {
    return s["audit"]["behind"].empty() && s["audit"]["cosignatures"].get<int>() >= 2;
  });
  const RunResult replay = net.Casectl("auditor", {"-o", "json", "audit", "replay", "--node", "jeugdhulp"});
  INFO(replay.out << replay.err);
  const nlohmann::json report = nlohmann::json::parse(replay.out);
  REQUIRE(report["problems"].size() == 1);
  REQUIRE(report["problems"][0]["kind"] == "GAP_DECLARED");
}

TEST_CASE("replay derives every consent fact again from the answer of its moment, and reconcile finds each answer "
          "in its issuer's log",
          "[integration][consent][audit]") {
  // Pings about a child need consent here, so each one is decided on a receipt.
  TempDir tmp;
  const std::string policy = PolicyVariant(
      tmp, "10-netwerk.toml", "actions = [\"node.ping\"]\npurposes = [\"netwerkbeheer\"]\n",
      "actions = [\"node.ping\"]\npurposes = [\"netwerkbeheer\"]\nconsent = \"required\"\n");
  LocalNetwork net(LocalNetwork::AllOrgs(), {"--policy", policy});
  // Responders first (a status check pings without consent, which this policy refuses).
  for (const std::string org : {"auditor", "politie", "gemeente", "jeugdhulp", "school"}) net.Start(org);
  const std::string receipt =
      RecordReceipt(net, {"--consenter", "child", "--birth-date", BirthDate(16), "--purpose", "netwerkbeheer",
                   "--recipient-role", "school"},
             "replayed");
  auto ping = [&](const std::string& org) {
    return net.CasectlJson("school", {"node", "ping", org, "--subject", kConsentSubjectHex, "--consent", receipt});
  };
  REQUIRE(ping("gemeente")["reachable"] == true);   // gemeente asks jeugdhulp
  REQUIRE(ping("gemeente")["reachable"] == true);   // and reuses its answer (cache: 60 s)
  REQUIRE(ping("jeugdhulp")["reachable"] == true);  // the issuer answers for itself, and logs it
  const std::string id = nlohmann::json::parse(*ReadFile(receipt))["receipt"]["receipt_id"];
  REQUIRE(net.Casectl("jeugdhulp", {"consent", "revoke", id, "--revoked-by", "staff-7f3a"}).exit_code == 0);
  REQUIRE(ping("jeugdhulp")["error"] == "PERMISSION_DENIED: CONSENT_REVOKED");
  REQUIRE(ping("gemeente")["reachable"] == true);   // within the cache time, as the policy allows

  for (const std::string org : {"gemeente", "jeugdhulp"}) {
    const RunResult r = net.Casectl("auditor", {"-o", "json", "audit", "replay", "--node", org});
    INFO(org << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const nlohmann::json report = nlohmann::json::parse(r.out);
    REQUIRE(report["clean"] == true);
    REQUIRE(report["decisions_replayed"].get<uint64_t>() >= 3);
  }
  // Three of gemeente's decisions rest on jeugdhulp's answers; pair them once they are old enough to judge.
  nlohmann::json report;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const RunResult r = net.Casectl("auditor", {"-o", "json", "audit", "reconcile", "--settle", "3"});
    INFO(r.out << r.err);
    report = nlohmann::json::parse(r.out);
    REQUIRE(report["unbacked_consents"].empty());
    if (report["consent_checks_paired"].get<uint64_t>() >= 3) {
      REQUIRE(r.exit_code == 0);
      break;
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(report["clean"] == true);
}

// The five inputs an independent client got accepted (issue "Reliability and
// bad input"), and their kin: each refused at recording with the field
// named, and nothing recorded.
TEST_CASE("consent record refuses what no request could use: unknown names, repeats, oversized or control-laden text",
          "[integration][consent][validation]") {
  LocalNetwork net({"jeugdhulp", "gemeente"});
  net.StartAll();
  const std::string adult_parent = BirthDate(9);
  std::vector<std::string> many_purposes;
  for (int i = 0; i < 2000; ++i) many_purposes.insert(many_purposes.end(), {"--purpose", "casusoverleg"});
  const struct {
    std::vector<std::string> args;
    std::string error;
  } cases[] = {
      {{"--consenter", "child", "--birth-date", adult_parent}, "consenters: at age 9"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--purpose", "marketing"},
       "purposes[0]: not a purpose of the network policy's vocabulary"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--recorded-by", std::string(100000, 'a')},
       "recorded_by: expected a pseudonymous staff id"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--evidence", std::string("kast 3\nrij 2")},
       "evidence_ref: control characters are not allowed"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--evidence", std::string(300, 'x')},
       "evidence_ref: at most 256 bytes"},
      {many_purposes, "purposes: expected at most 64 names"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--purpose", "casusoverleg", "--purpose",
        "casusoverleg"},
       "purposes: expected each name once"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--category", "reclame"},
       "categories[0]: not a data category"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--recipient-role", "bank"},
       "recipient_roles[0]: not a role"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--recipient-org", "nowhere"},
       "recipient_orgs[0]: not an organisation in the manifest"},
      {{"--consenter", "parent", "--birth-date", adult_parent, "--recorded-by", "Staff 1"},
       "recorded_by: expected a pseudonymous staff id"},
  };
  // The bad value, and good ones for every option it does not set.
  auto with_defaults = [&](std::vector<std::string> args) {
    auto has = [&](const char* flag) { return std::find(args.begin(), args.end(), flag) != args.end(); };
    for (const auto& [flag, value] : std::vector<std::pair<const char*, std::string>>{
             {"--consenter", "parent"}, {"--birth-date", adult_parent}, {"--purpose", "casusoverleg"},
             {"--category", "zorg"}, {"--recipient-role", "gemeente"}, {"--recorded-by", "staff-7f3a"}}) {
      if (!has(flag)) args.insert(args.end(), {flag, value});
    }
    args.insert(args.begin(), {"consent", "record", "--subject", kConsentSubjectHex});
    return args;
  };
  int tried = 0;
  for (const auto& c : cases) {
    const RunResult r = net.Casectl("jeugdhulp", with_defaults(c.args));
    CAPTURE(c.error);
    INFO(r.err.substr(0, 400));
    REQUIRE(r.exit_code != 0);
    REQUIRE(r.err.find(c.error) != std::string::npos);
    ++tried;
  }
  const auto listed = net.CasectlJson("jeugdhulp", {"consent", "list", "--subject", kConsentSubjectHex});
  REQUIRE(listed["entries"].empty());
  // And a good one still records.
  REQUIRE(net.CasectlJson("jeugdhulp", RecordArgs({"--consenter", "parent", "--birth-date", adult_parent}))["receipt"]
              ["receipt_id"]
                  .get<std::string>()
                  .size() == 32);
  std::printf("consent record: %d bad inputs refused\n", tried);
}
