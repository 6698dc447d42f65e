// Integration: consent receipts recorded at one node and verified at another,
// with revocation asked of the issuer over mTLS.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/file.h"
#include "tests/support/canary.h"
#include "tests/support/local_network.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;

namespace {

// A recognisable pseudonym: its hex and raw bytes serve as canaries.
const std::string kSubjectHex = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

std::vector<std::string> RecordArgs(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"consent", "record", "--subject", kSubjectHex, "--purpose", "casusoverleg",
                                   "--category", "zorg", "--recipient-role", "gemeente", "--recorded-by", "staff-7f3a",
                                   "--evidence", "DMS-2026-0042"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Records at jeugdhulp and returns the file that `consent show -o json` wrote.
std::string Record(const LocalNetwork& net, const std::vector<std::string>& extra, const std::string& name) {
  const auto entry = net.CasectlJson("jeugdhulp", RecordArgs(extra));
  const std::string id = entry["receipt"]["receipt_id"];
  REQUIRE(id.size() == 32);
  RunResult shown = net.Casectl("jeugdhulp", {"consent", "show", id, "-o", "json"});
  REQUIRE(shown.exit_code == 0);
  const std::string path = net.dir() + "/" + name + ".json";
  REQUIRE(WriteFileAtomic(path, shown.out, 0600).ok());
  return path;
}

std::string VerifyAt(const LocalNetwork& net, const std::string& org, const std::string& file, int* exit_code) {
  const auto r = net.CasectlJson(org, {"consent", "verify", file}, exit_code);
  return r["status"];
}

}  // namespace

TEST_CASE("consent receipts verify at another node: valid, forged, expired, age rule, revoked, unreachable",
          "[integration][consent]") {
  LocalNetwork net({"jeugdhulp", "gemeente"});
  net.StartAll();
  int code = -1;

  const std::string valid = Record(net, {"--consenter", "parent", "--consenter", "child", "--age", "13"}, "valid");
  REQUIRE(VerifyAt(net, "gemeente", valid, &code) == "valid");
  REQUIRE(code == 0);

  std::string forged_text = *ReadFile(valid);
  forged_text.replace(forged_text.find("\"zorg\""), 6, "\"justitieel\"");
  REQUIRE(WriteFileAtomic(net.dir() + "/forged.json", forged_text, 0600).ok());
  REQUIRE(VerifyAt(net, "gemeente", net.dir() + "/forged.json", &code) == "forged");
  REQUIRE(code == 3);

  const std::string expired = Record(net, {"--consenter", "child", "--age", "17", "--valid-from",
                                           "2020-01-01T00:00:00Z", "--valid-until", "2021-01-01T00:00:00Z"},
                                     "expired");
  REQUIRE(VerifyAt(net, "gemeente", expired, &code) == "expired");

  const std::string parent_only = Record(net, {"--consenter", "parent", "--age", "13"}, "age");
  REQUIRE(VerifyAt(net, "gemeente", parent_only, &code) == "age_rule");

  const auto entry = nlohmann::json::parse(*ReadFile(valid));
  const std::string id = entry["receipt"]["receipt_id"];
  const auto revoked = net.CasectlJson("jeugdhulp", {"consent", "revoke", id, "--revoked-by", "staff-7f3a"});
  REQUIRE(revoked["revoked"] == true);
  REQUIRE(VerifyAt(net, "gemeente", valid, &code) == "revoked");
  REQUIRE(VerifyAt(net, "jeugdhulp", valid, &code) == "revoked");  // the issuer answers for itself

  const auto listed = net.CasectlJson("jeugdhulp", {"consent", "list", "--subject", kSubjectHex});
  REQUIRE(listed["entries"].size() == 3);

  // The issuer stops answering: fail closed.
  const std::string another = Record(net, {"--consenter", "child", "--age", "16"}, "another");
  REQUIRE(VerifyAt(net, "gemeente", another, &code) == "valid");
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  REQUIRE(VerifyAt(net, "gemeente", another, &code) == "issuer_unreachable");
  REQUIRE(code == 3);
}

TEST_CASE("consent records reveal no pseudonym, staff content or evidence in files or logs", "[integration][consent][canary]") {
  LocalNetwork net({"jeugdhulp", "gemeente"});
  net.StartAll();
  const std::string id = Record(net, {"--consenter", "child", "--age", "16"}, "r");
  REQUIRE(!id.empty());
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  std::string raw_subject;
  for (size_t i = 0; i < kSubjectHex.size(); i += 2) {
    raw_subject.push_back(static_cast<char>(std::stoi(kSubjectHex.substr(i, 2), nullptr, 16)));
  }
  const std::vector<std::string> canaries = {kSubjectHex, raw_subject, "DMS-2026-0042", "staff-7f3a"};
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
