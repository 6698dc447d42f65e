// Signal matching, cases found in an adversarial review (each failed on
// f23b9ba): peers left out of a check, refusals shown as "not known", holders
// down at registration, notices outliving their signal.
#include <signal.h>

#include <catch2/catch.hpp>
#include <thread>

#include "base/file.h"
#include "tests/support/local_network.h"

using namespace casenode;
using namespace casenode::testing;

namespace {

constexpr char kBsn[] = "507529170";
constexpr char kJeugdhulpContact[] = "Canary Jansen-Jeugdhulp 0612345678";
constexpr char kSchoolContact[] = "Canary Pietersen-School 0687654321";

nlohmann::json Json(const RunResult& r) {
  INFO(r.out << r.err);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

nlohmann::json Register(const LocalNetwork& net, const std::string& org, const std::string& contact) {
  RunResult r = net.Casectl(org, {"-o", "json", "signal", "register", "--category", "zorg"},
                            std::string(kBsn) + "\n" + contact + "\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return Json(r);
}

nlohmann::json Inbox(const LocalNetwork& net, const std::string& org) {
  return Json(net.Casectl(org, {"-o", "json", "inbox"}));
}

void Stop(LocalNetwork& net, const std::string& org) {
  net.process(org).Signal(SIGTERM);
  REQUIRE(net.process(org).Wait(std::chrono::seconds(10)) == 0);
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

// desk.cc:117-129: peers are chosen by evaluating the *caller's* purpose and
// legal basis against this node's policy; a peer that fails is never asked and
// never listed, and the answer is "complete".
TEST_CASE("a purpose no peer accepts never reads as not known while a peer holds a signal",
          "[integration][signals][review]") {
  LocalNetwork net;
  net.StartAll();
  Register(net, "jeugdhulp", kJeugdhulpContact);
  RunResult r =
      net.Casectl("school", {"-o", "json", "signal", "check", "--purpose", "casusoverleg"}, std::string(kBsn) + "\n");
  INFO(r.out << r.err);
  if (r.exit_code == 0) {
    const nlohmann::json j = Json(r);
    CHECK_FALSE((j["status"] == "complete" && SilentlyOmits(j, "jeugdhulp")));
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
  Register(net, "jeugdhulp", kJeugdhulpContact);
  const nlohmann::json j = Json(net.Casectl("school", {"-o", "json", "signal", "check"}, std::string(kBsn) + "\n"));
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
  Register(net, "jeugdhulp", kJeugdhulpContact);
  RunResult text = net.Casectl("school", {"signal", "check"}, std::string(kBsn) + "\n");
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
  Register(net, "jeugdhulp", kJeugdhulpContact);
  Stop(net, "jeugdhulp");
  const nlohmann::json reg = Register(net, "school", kSchoolContact);
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
  Register(net, "jeugdhulp", kJeugdhulpContact);
  Stop(net, "jeugdhulp");
  const std::string school_signal = Register(net, "school", kSchoolContact)["signal_id"];
  REQUIRE(HasNoticeFrom(Inbox(net, "school"), "jeugdhulp", "sent"));  // pending
  REQUIRE(net.Casectl("school", {"signal", "withdraw", school_signal}).exit_code == 0);
  CHECK(Inbox(net, "school").empty());  // the pending notice went with the signal
  net.Start("jeugdhulp");
  // A later registration by gemeente is delivered to jeugdhulp; the withdrawn
  // school signal's notice, which would have gone first, never is.
  Register(net, "gemeente", "Canary Gemeente 0611111111");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!HasNoticeFrom(Inbox(net, "jeugdhulp"), "gemeente", "received") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(HasNoticeFrom(Inbox(net, "jeugdhulp"), "gemeente", "received"));
  CHECK_FALSE(HasNoticeFrom(Inbox(net, "jeugdhulp"), "school", "received"));
}
