// Signalen end to end on a five-node network: the school's question, match
// notices on both sides, honesty about peers that did not answer.
#include <signal.h>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "base/file.h"
#include "tests/support/canary.h"
#include "tests/support/local_network.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using namespace casenode::testing;

namespace {

// Canaries: a BSN that passes the elfproef, and contact points.
constexpr char kSignalBsn[] = "507529170";
constexpr char kSignalOtherBsn[] = "079244026";
constexpr char kJeugdhulpContact[] = "Canary Jansen-Jeugdhulp 0612345678";
constexpr char kSchoolContact[] = "Canary Pietersen-School 0687654321";


nlohmann::json Check(const LocalNetwork& net, const std::string& org, const std::string& bsn, int* code = nullptr) {
  RunResult r = net.Casectl(org, {"-o", "json", "signal", "check"}, bsn + "\n");
  if (code != nullptr) *code = r.exit_code;
  return ParseJson(r);
}

nlohmann::json Register(const LocalNetwork& net, const std::string& org, const std::string& bsn,
                        const std::string& contact) {
  RunResult r =
      net.Casectl(org, {"-o", "json", "signal", "register", "--category", "zorg"}, bsn + "\n" + contact + "\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return ParseJson(r);
}

nlohmann::json Inbox(const LocalNetwork& net, const std::string& org) {
  return ParseJson(net.Casectl(org, {"-o", "json", "inbox"}));
}

std::vector<std::string> Orgs(const nlohmann::json& matches) {
  std::vector<std::string> out;
  for (const auto& m : matches) out.push_back(m["org"]);
  return out;
}

// Waits (polling, no fixed sleep) until `org`'s inbox has a notice in `state`.
nlohmann::json WaitForNotice(const LocalNetwork& net, const std::string& org, const std::string& state) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const nlohmann::json inbox = Inbox(net, org);
    for (const auto& n : inbox) {
      if (n["state"] == state) return n;
    }
    if (std::chrono::steady_clock::now() > deadline)
      FAIL(org << " has no notice in state " << state << ": " << inbox.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}


void UseLocalPolicy(LocalNetwork& net, const std::string& org, const std::string& rules) {
  REQUIRE(WriteFileAtomic(net.NodeDir(org) + "/local-policy.toml", rules, 0644).ok());
  std::string config = *ReadFile(net.NodeDir(org) + "/casenode.toml");
  const auto at = config.find("local = []");
  if (at != std::string::npos) config.replace(at, 10, "local = ['local-policy.toml']");
  REQUIRE(WriteFileAtomic(net.NodeDir(org) + "/casenode.toml", config, 0644).ok());
}

// jeugdhulp holds a signal on the child: an answer that does not show it as
// a match, a denial or unreachable is a false "not known".
bool SilentlyOmits(const nlohmann::json& r, const std::string& org) {
  for (const auto& m : r["matches"])
    if (m["org"] == org) return false;
  for (const auto& d : r["denied"])
    if (d["org"] == org) return false;
  for (const auto& u : r["unreachable"])
    if (u == org) return false;
  return true;
}

bool HasNoticeFrom(const nlohmann::json& inbox, const std::string& org, const std::string& direction) {
  for (const auto& n : inbox) {
    if (n["other"]["org"] == org && n["direction"] == direction) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the school's question: not known, a signal elsewhere, a match on both sides", "[integration][signals]") {
  LocalNetwork net;
  net.StartAll();
  // Not known, and every organisation that takes part answered.
  int code = -1;
  nlohmann::json first = Check(net, "school", kSignalBsn, &code);
  CHECK(code == 0);
  CHECK(first["status"] == "complete");
  CHECK(first["matches"].empty());
  CHECK(first["unreachable"].empty());

  // Jeugdhulp registers a signal; the school checks again and finds it, with its contact point.
  const nlohmann::json reg = Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  const std::string signal_id = reg["signal_id"];
  nlohmann::json second = Check(net, "school", kSignalBsn);
  CHECK(second["status"] == "complete");
  REQUIRE(second["matches"].size() == 1);
  CHECK(second["matches"][0]["org"] == "jeugdhulp");
  CHECK(second["matches"][0]["role"] == "jeugdhulp");
  CHECK(second["matches"][0]["contact"] == kJeugdhulpContact);
  CHECK(second["matches"][0]["category"] == "zorg");
  // Another child is not known.
  CHECK(Check(net, "school", kSignalOtherBsn)["matches"].empty());

  // The school registers its own signal: the match is told to both sides.
  const nlohmann::json school_reg = Register(net, "school", kSignalBsn, kSchoolContact);
  CHECK(Orgs(school_reg["check"]["matches"]) == std::vector<std::string>{"jeugdhulp"});
  const nlohmann::json sent = WaitForNotice(net, "school", "delivered");
  CHECK(sent["other"]["org"] == "jeugdhulp");
  CHECK(sent["other"]["contact"] == kJeugdhulpContact);
  const nlohmann::json received = WaitForNotice(net, "jeugdhulp", "received");
  CHECK(received["other"]["org"] == "school");
  CHECK(received["other"]["contact"] == kSchoolContact);
  CHECK(received["signal_ids"] == std::vector<std::string>{signal_id});
  CHECK(received["notice_id"] == sent["notice_id"]);

  // Withdrawn: it stops matching at once.
  REQUIRE(net.Casectl("jeugdhulp", {"signal", "withdraw", signal_id}).exit_code == 0);
  const nlohmann::json after = Check(net, "gemeente", kSignalBsn);
  CHECK(Orgs(after["matches"]) == std::vector<std::string>{"school"});
  RunResult again = net.Casectl("jeugdhulp", {"signal", "withdraw", signal_id});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("no such signal") != std::string::npos);

  // Nothing in any directory or log: not the BSN, not a contact in the clear.
  for (const auto& org : LocalNetwork::AllOrgs()) net.Stop(org);
  const auto hits = FindCanaries(net.dir(), {kSignalBsn, kSignalOtherBsn, kJeugdhulpContact, kSchoolContact, "Canary"});
  INFO((hits.empty() ? "" : hits.front()));
  CHECK(hits.empty());
}

// Serves `org`'s metrics on a free loopback port (before it starts); returns
// a scrape of one series' value ("name{labels}"), -1 if absent.
std::function<double(const std::string&)> MetricsOf(LocalNetwork& net, const std::string& org,
                                                    std::unique_ptr<testing::PortBlock>& port) {
  auto reserved = testing::PortBlock::Reserve(1);
  REQUIRE(reserved.ok());
  port = *std::move(reserved);
  const int p = port->base();
  const std::string config = net.NodeDir(org) + "/casenode.toml";
  REQUIRE(WriteFileAtomic(config, *ReadFile(config) + "\n[metrics]\nlisten = \"127.0.0.1:" + std::to_string(p) + "\"\n",
                          0600)
              .ok());
  return [p](const std::string& series) {
    httplib::Client client("127.0.0.1", p);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(5, 0);
    const auto res = client.Get("/metrics");
    REQUIRE(res);
    const size_t at = res->body.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(res->body.substr(at + series.size() + 2));
  };
}

TEST_CASE("a check with a peer down is incomplete and names it, never 'not known'", "[integration][signals]") {
  LocalNetwork net;
  std::unique_ptr<testing::PortBlock> port;
  const auto metric = MetricsOf(net, "school", port);
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  net.Stop("jeugdhulp");
  int code = 0;
  const nlohmann::json down = Check(net, "school", kSignalBsn, &code);
  CHECK(code == 1);  // incomplete
  CHECK(down["status"] == "incomplete");
  CHECK(down["unreachable"] == std::vector<std::string>{"jeugdhulp"});
  CHECK(down["matches"].empty());
  // The text answer says so in words.
  RunResult text = net.Casectl("school", {"signal", "check"}, std::string(kSignalBsn) + "\n");
  CHECK(text.out.find("INCOMPLETE") != std::string::npos);
  CHECK(text.out.find("not known") == std::string::npos);
  CHECK(text.out.find("did not answer: jeugdhulp") != std::string::npos);

  net.Start("jeugdhulp");
  const nlohmann::json back = Check(net, "school", kSignalBsn);
  CHECK(back["status"] == "complete");
  CHECK(Orgs(back["matches"]) == std::vector<std::string>{"jeugdhulp"});
  // Counted for the operator by result (the JSON and the text check while jeugdhulp was down).
  CHECK(metric(R"(casenode_signal_checks_total{result="incomplete"})") == 2);
  CHECK(metric(R"(casenode_signal_checks_total{result="complete"})") == 1);
}

TEST_CASE("politie and the auditor take no part in signal matching, and politie may not ask", "[integration][signals]") {
  LocalNetwork net;
  net.StartAll();
  const nlohmann::json r = Check(net, "school", kSignalBsn);
  CHECK(r["status"] == "complete");
  CHECK(r["denied"].empty());
  RunResult politie = net.Casectl("politie", {"-o", "json", "signal", "check"}, std::string(kSignalBsn) + "\n");
  const nlohmann::json p = ParseJson(politie);
  // Every organisation that takes part refuses politie, by the network policy.
  CHECK(p["denied"].size() == 3);
  for (const auto& d : p["denied"]) CHECK(d["reason"] == "DENIED_BY_RULE");
  // No oracle: the refusal is the same whether or not the peer holds a signal on the child.
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  const nlohmann::json known =
      ParseJson(net.Casectl("politie", {"-o", "json", "signal", "check"}, std::string(kSignalBsn) + "\n"));
  CHECK(known["denied"] == p["denied"]);
  CHECK(known["matches"].empty());
}

TEST_CASE("a notice that cannot be delivered is pending, survives a crash, and arrives when the recipient is back",
          "[integration][signals]") {
  LocalNetwork net;
  std::unique_ptr<testing::PortBlock> port;
  const auto metric = MetricsOf(net, "school", port);
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  // Jeugdhulp is down when the school registers: the check is incomplete, and
  // jeugdhulp is to be told when it is back (it may hold a signal; it does).
  net.Stop("jeugdhulp");
  const nlohmann::json reg = Register(net, "school", kSignalBsn, kSchoolContact);
  CHECK(reg["check"]["status"] == "incomplete");
  CHECK(WaitForNotice(net, "school", "pending")["other"]["org"] == "jeugdhulp");
  // The school crashes: the notice is in its store, not in memory.
  net.process("school").Signal(SIGKILL);
  net.process("school").Wait(std::chrono::seconds(10));
  net.Start("school");
  CHECK(WaitForNotice(net, "school", "pending")["other"]["org"] == "jeugdhulp");
  CHECK(metric(R"(casenode_state{what="notices_pending"})") == 1);
  net.Start("jeugdhulp");
  const nlohmann::json sent = WaitForNotice(net, "school", "delivered");
  CHECK(sent["other"]["contact"] == kJeugdhulpContact);  // as jeugdhulp reported its side
  const nlohmann::json received = WaitForNotice(net, "jeugdhulp", "received");
  CHECK(received["other"]["org"] == "school");
  CHECK(Inbox(net, "jeugdhulp").size() == 1);  // delivered once, however often it was tried
  CHECK(metric(R"(casenode_state{what="notices_pending"})") == 0);
}

TEST_CASE("a notice refused by the recipient's policy is final, and shown as refused", "[integration][signals]") {
  LocalNetwork net;
  UseLocalPolicy(net, "jeugdhulp",
                 "[[rule]]\nid = \"lokaal-geen-matchbericht\"\neffect = \"deny\"\norgs = [\"school\"]\n"
                 "actions = [\"signal.notify\"]\npurposes = [\"vroegsignalering\"]\n");
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  Register(net, "school", kSignalBsn, kSchoolContact);
  CHECK(WaitForNotice(net, "school", "refused")["other"]["org"] == "jeugdhulp");
  CHECK(Inbox(net, "jeugdhulp").empty());
}

TEST_CASE("signal commands refuse bad input before anything happens", "[integration][signals]") {
  LocalNetwork net({"school", "gemeente"});
  // No node runs: a refusal here cannot come from a call.
  RunResult bad = net.Casectl("school", {"signal", "check"}, "739184625\n");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("INVALID_BSN") != std::string::npos);
  CHECK(bad.err.find("739184625") == std::string::npos);
  RunResult no_contact = net.Casectl("school", {"signal", "register", "--category", "zorg"}, std::string(kSignalBsn) + "\n");
  CHECK(no_contact.exit_code == 2);
  CHECK(no_contact.err.find("contact") != std::string::npos);
  net.Start("school");
  RunResult bad_id = net.Casectl("school", {"signal", "withdraw", "not-an-id"});
  CHECK(bad_id.exit_code == 2);
  CHECK(bad_id.err.find("signal_id") != std::string::npos);
  RunResult bad_category =
      net.Casectl("school", {"signal", "register", "--category", "Zorg!"}, std::string(kSignalBsn) + "\nX\n");
  CHECK(bad_category.exit_code == 2);
  CHECK(bad_category.err.find("category") != std::string::npos);
  CHECK(ParseJson(net.Casectl("school", {"-o", "json", "signal", "list"})).empty());  // nothing was stored
}

TEST_CASE("a signal expires after the retention the network policy names", "[integration][signals]") {
  // A network whose policy keeps signals for 2 seconds.
  TempDir custom;
  const std::string dir = custom.path("policy");
  std::filesystem::create_directories(dir);
  for (const auto& e : std::filesystem::directory_iterator(CASENODE_SOURCE_DIR "/policy/network")) {
    std::string text = *ReadFile(e.path().string());
    const std::string from = "retention_seconds = 63072000";
    if (auto at = text.find(from); at != std::string::npos) text.replace(at, from.size(), "retention_seconds = 2");
    REQUIRE(WriteFileAtomic(dir + "/" + e.path().filename().string(), text, 0644).ok());
  }
  LocalNetwork net({"school", "jeugdhulp", "gemeente"}, {"--policy", dir});
  net.StartAll();
  const nlohmann::json reg = Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  CHECK(Orgs(Check(net, "school", kSignalBsn)["matches"]) == std::vector<std::string>{"jeugdhulp"});
  // Wait for the expiry (a condition, polled at the holder: a check each
  // time would spend the school's pseudonym quota), then: not listed, no match.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!ParseJson(net.Casectl("jeugdhulp", {"-o", "json", "signal", "list"})).empty()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const nlohmann::json r = Check(net, "school", kSignalBsn);
  CHECK(r["matches"].empty());
  CHECK(r["status"] == "complete");
}

// Cases found in an adversarial review (each failed on f23b9ba): peers left
// out of a check, refusals shown as "not known", holders down at
// registration, notices outliving their signal.

// desk.cc:117-129: peers are chosen by evaluating the *caller's* purpose and
// legal basis against this node's policy; a peer that fails is never asked and
// never listed, and the answer is "complete".
TEST_CASE("a purpose no peer accepts never reads as not known while a peer holds a signal",
          "[integration][signals][review]") {
  LocalNetwork net;
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  RunResult r =
      net.Casectl("school", {"-o", "json", "signal", "check", "--purpose", "casusoverleg"}, std::string(kSignalBsn) + "\n");
  INFO(r.out << r.err);
  if (!r.out.empty()) {
    const nlohmann::json j = ParseJson(r);
    CHECK_FALSE((j["status"] == "complete" && SilentlyOmits(j, "jeugdhulp")));
  } else {
    // No answer at all: a refusal, which says so in casectl's words.
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::StartsWith("casectl: "));
  }
}

// desk.cc:128 uses this node's policy *including its local rules*; a local
// rule that restricts what jeugdhulp may ask the school removes jeugdhulp
// from the school's own fan-out, silently.
TEST_CASE("a local rule of the asking node does not drop a peer from its own check", "[integration][signals][review]") {
  LocalNetwork net;
  UseLocalPolicy(net, "school",
                 "[[rule]]\nid = \"lokaal-jeugdhulp-vraagt-niet\"\neffect = \"deny\"\norgs = [\"jeugdhulp\"]\n"
                 "actions = [\"signal.lookup\"]\npurposes = [\"vroegsignalering\"]\n");
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  const nlohmann::json j = ParseJson(net.Casectl("school", {"-o", "json", "signal", "check"}, std::string(kSignalBsn) + "\n"));
  INFO(j.dump());
  CHECK_FALSE((j["status"] == "complete" && SilentlyOmits(j, "jeugdhulp")));
}

// cli/signal_commands.cc:54-56: a peer that refused to answer is reported as
// "not known in the network", exit 0.
TEST_CASE("a peer that refuses is not 'not known in the network'", "[integration][signals][review]") {
  LocalNetwork net;
  UseLocalPolicy(net, "jeugdhulp",
                 "[[rule]]\nid = \"lokaal-geen-opvraag\"\neffect = \"deny\"\norgs = [\"school\"]\n"
                 "actions = [\"signal.lookup\"]\npurposes = [\"vroegsignalering\"]\n");
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  RunResult text = net.Casectl("school", {"signal", "check"}, std::string(kSignalBsn) + "\n");
  INFO(text.out);
  CHECK(text.out.find("denied by jeugdhulp") != std::string::npos);
  CHECK(text.out.find("not known") == std::string::npos);
}

// desk.cc:174-202: notices go only to peers that answered the registration's
// lookup. A holder that is down at that moment is never told, and neither
// inbox ever shows the match (issue: "notices arrive on both sides, including
// after the recipient was down").
TEST_CASE("a holder that is down when the match is registered is told when it is back",
          "[integration][signals][review]") {
  LocalNetwork net;
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  net.Stop("jeugdhulp");
  const nlohmann::json reg = Register(net, "school", kSignalBsn, kSchoolContact);
  CHECK(reg["check"]["status"] == "incomplete");
  net.Start("jeugdhulp");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool received = false, sent = false;
  while (!(received && sent) && std::chrono::steady_clock::now() < deadline) {
    received = HasNoticeFrom(Inbox(net, "jeugdhulp"), "school", "received");
    sent = HasNoticeFrom(Inbox(net, "school"), "jeugdhulp", "sent");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(received);
  CHECK(sent);
}

// A signal withdrawn while its notice is pending (recipient down) is not
// announced when the recipient is back.
TEST_CASE("a withdrawn signal's pending notice is not delivered", "[integration][signals][review]") {
  LocalNetwork net;
  net.StartAll();
  Register(net, "jeugdhulp", kSignalBsn, kJeugdhulpContact);
  net.Stop("jeugdhulp");
  const std::string school_signal = Register(net, "school", kSignalBsn, kSchoolContact)["signal_id"];
  REQUIRE(HasNoticeFrom(Inbox(net, "school"), "jeugdhulp", "sent"));  // pending
  REQUIRE(net.Casectl("school", {"signal", "withdraw", school_signal}).exit_code == 0);
  CHECK(Inbox(net, "school").empty());  // the pending notice went with the signal
  net.Start("jeugdhulp");
  // A later registration by gemeente is delivered to jeugdhulp; the withdrawn
  // school signal's notice, which would have gone first, never is.
  Register(net, "gemeente", kSignalBsn, "Canary Gemeente 0611111111");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!HasNoticeFrom(Inbox(net, "jeugdhulp"), "gemeente", "received") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(HasNoticeFrom(Inbox(net, "jeugdhulp"), "gemeente", "received"));
  CHECK_FALSE(HasNoticeFrom(Inbox(net, "jeugdhulp"), "school", "received"));
}
