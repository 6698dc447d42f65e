// casectl audit: the auditor's tools. `audit verify --node ORG` asks this
// node to fetch ORG's audit log with proofs and check it (see
// node/audit/verifier.h); exit 1 when anything is wrong.
#include <google/protobuf/util/json_util.h>
#include <sodium.h>

#include <future>
#include <iostream>

#include "base/encoding.h"
#include "base/strings.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/local_client.h"
#include "cli/private_input.h"
#include "nlohmann/json.hpp"

namespace casenode::cli {
namespace {

// A verification reads every entry: it gets more time than other calls.
constexpr int kVerifyTimeoutMs = 10 * 60 * 1000;

struct AuditArgs {
  std::string node;
  std::string purpose = "verantwoording";
  std::string since;
  std::string until;
  uint32_t settle_seconds = 30;
};

// An RFC 3339 time as Unix ms; 0 for none.
absl::StatusOr<int64_t> TimeArg(const std::string& text, std::string_view flag) {
  if (text.empty()) return 0;
  auto t = ParseRfc3339(text, flag);
  if (!t.ok()) return t.status();
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

// Runs a long Local call, with a progress line on standard error every ten
// seconds until it returns (standard output stays the result alone).
template <typename Call>
grpc::Status WithProgress(const std::string& what, Call call) {
  auto pending = std::async(std::launch::async, std::move(call));
  const auto start = std::chrono::steady_clock::now();
  while (pending.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
    std::cerr << "... still " << what << " (" << s.count() << " s)\n";
  }
  return pending.get();
}

// "ACTIVE", "REVOKED", "UNKNOWN", "UNCONFIRMED"; "" for no state, "state N"
// for one this casectl does not know.
std::string ConsentStateText(v1::ConsentState state) {
  if (state == v1::CONSENT_STATE_UNSPECIFIED) return "";
  if (!v1::ConsentState_IsValid(state)) return "state " + std::to_string(static_cast<int>(state));
  return v1::ConsentState_Name(state).substr(std::string_view("CONSENT_").size());
}

// The state a consent event records; events logged before the state was
// typed hold it as text (as node/audit/consent_state.h reads it).
v1::ConsentState EventState(const v1::ConsentEvent& c) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const std::string& legacy = c.legacy_state();
#pragma GCC diagnostic pop
  v1::ConsentState parsed = c.state();
  if (parsed == v1::CONSENT_STATE_UNSPECIFIED && !legacy.empty()) (void)v1::ConsentState_Parse("CONSENT_" + legacy, &parsed);
  return parsed;
}

std::string KindName(v1::AuditProblem::Kind kind) {
  std::string name = v1::AuditProblem::Kind_Name(kind);
  return name.empty() ? "UNKNOWN" : name;
}

int VerifyLog(const Globals& g, const AuditArgs& a, bool replay) {
  v1::AuditVerifyRequest req;
  req.set_org(a.node);
  req.set_purpose(a.purpose);
  req.set_replay(replay);
  auto since = TimeArg(a.since, "--since");
  if (!since.ok()) return Fail(since.status());
  auto until = TimeArg(a.until, "--until");
  if (!until.ok()) return Fail(until.status());
  req.set_since_unix_ms(*since);
  req.set_until_unix_ms(*until);
  v1::AuditVerifyReport r;
  Globals longer = g;
  longer.timeout_ms = std::max(g.timeout_ms, kVerifyTimeoutMs);
  std::cerr << (replay ? "verifying and replaying" : "verifying") << " the audit log of " << a.node << " ...\n";
  grpc::Status s = WithProgress(StrCat(replay ? "verifying and replaying" : "verifying", " the audit log of ", a.node),
                                [&] { return CallLocal(longer, &v1::LocalAudit::Stub::Verify, req, &r); });
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const auto& p : r.problems()) {
      problems.push_back({{"kind", KindName(p.kind())}, {"seq", p.seq()}, {"detail", p.detail()}});
    }
    PrintJson({{"node", r.org()},
               {"tree_size", r.tree_size()},
               {"root", HexEncode(AsBytes(r.root()))},
               {"entries_verified", r.entries_verified()},
               {"consistent_with_size", r.previous_size()},
               {"decisions_replayed", r.decisions_replayed()},
               {"policies_loaded", r.policies_loaded()},
               {"witnesses", r.witnesses()},
               {"clean", r.problems().empty()},
               {"problems", problems}});
  } else {
    std::cout << "audit log of " << r.org() << ": " << r.tree_size() << " entries, root "
              << HexEncode(AsBytes(r.root())) << "\n";
    std::cout << "cosigned by " << r.witnesses_size() << " witness" << (r.witnesses_size() == 1 ? "" : "es");
    for (const auto& w : r.witnesses()) std::cout << " " << w;
    std::cout << "\n";
    if (r.previous_size() > 0) std::cout << "checked against the checkpoint of size " << r.previous_size() << " verified before\n";
    if (replay) {
      std::cout << r.decisions_replayed() << " decisions decided again under " << r.policies_loaded()
                << " recorded polic" << (r.policies_loaded() == 1 ? "y" : "ies") << "\n";
    }
    for (const auto& p : r.problems()) {
      std::cout << "PROBLEM " << KindName(p.kind());
      switch (p.kind()) {
        case v1::AuditProblem::ROOT_MISMATCH:
        case v1::AuditProblem::CHECKPOINT_INVALID:
        case v1::AuditProblem::CHECKPOINT_UNWITNESSED: break;
        case v1::AuditProblem::INCONSISTENT_HISTORY: std::cout << " since size " << p.seq(); break;
        default: std::cout << " at seq " << p.seq();
      }
      std::cout << ": " << p.detail() << "\n";
    }
    std::cout << (!r.problems().empty() ? "NOT CLEAN: see the problems above\n"
                  : replay              ? "clean: every entry is in the signed checkpoint, every decision stands\n"
                                        : "clean: every entry is included in the signed checkpoint\n");
  }
  return r.problems().empty() ? kOk : kFailed;
}

int Reconcile(const Globals& g, const AuditArgs& a) {
  v1::AuditReconcileRequest req;
  req.set_purpose(a.purpose);
  req.set_settle_seconds(a.settle_seconds);
  v1::AuditReconcileReport r;
  Globals longer = g;
  longer.timeout_ms = std::max(g.timeout_ms, kVerifyTimeoutMs);
  std::cerr << "reading and pairing every node's audit log ...\n";
  grpc::Status s = WithProgress("reading and pairing every node's audit log",
                                [&] { return CallLocal(longer, &v1::LocalAudit::Stub::Reconcile, req, &r); });
  if (!s.ok()) return Fail(s);
  const bool clean = r.one_sided().empty() && r.unreadable().empty() && r.unbacked_consents().empty() &&
                     r.unbacked_not_listed() == 0;
  if (g.json()) {
    nlohmann::ordered_json unbacked = nlohmann::ordered_json::array();
    for (const auto& u : r.unbacked_consents()) {
      unbacked.push_back({{"org", u.org()},
                          {"seq", u.seq()},
                          {"receipt_id", u.receipt_id()},
                          {"issuer", u.issuer_org()},
                          {"state_relied", ConsentStateText(u.state_relied())},
                          {"state_answered", ConsentStateText(u.state_answered())},
                          {"why", u.why()}});
    }
    nlohmann::ordered_json one_sided = nlohmann::ordered_json::array();
    for (const auto& c : r.one_sided()) {
      one_sided.push_back({{"trace_id", c.trace_id()},
                           {"span_id", c.span_id()},
                           {"method", c.method()},
                           {"caller", c.caller_org()},
                           {"callee", c.callee_org()},
                           {"logged_by", c.logged_by()},
                           {"seq", c.seq()},
                           {"outcome", c.outcome()}});
    }
    PrintJson({{"nodes", r.nodes()},
               {"unreadable", r.unreadable()},
               {"calls_paired", r.calls_paired()},
               {"in_flight", r.in_flight()},
               {"consent_checks_paired", r.consent_checks_paired()},
               {"clean", clean},
               {"one_sided", one_sided},
               {"unbacked_consents", unbacked},
               {"unbacked_not_listed", r.unbacked_not_listed()}});
  } else {
    std::cout << r.nodes_size() << " logs read, " << r.calls_paired() << " calls found in both the caller's and the "
              << "callee's log (" << r.in_flight() << " too recent to judge)\n";
    for (const auto& u : r.unreadable()) std::cout << "UNREADABLE: the log of " << u << " (run audit verify)\n";
    for (const auto& c : r.one_sided()) {
      std::cout << "ONE-SIDED " << c.method() << " " << c.caller_org() << " -> " << c.callee_org() << ": only in "
                << c.logged_by() << "'s log at seq " << c.seq() << " (" << c.outcome() << "), trace " << c.trace_id()
                << "\n";
    }
    for (const auto& u : r.unbacked_consents()) {
      std::cout << "UNBACKED CONSENT: " << u.org() << "'s decision at seq " << u.seq() << " relied on "
                << u.issuer_org() << " answering " << ConsentStateText(u.state_relied()) << " about receipt "
                << u.receipt_id() << ": " << u.why()
                << (u.state_answered() == v1::CONSENT_STATE_UNSPECIFIED
                        ? ""
                        : " (" + ConsentStateText(u.state_answered()) + ")")
                << "\n";
    }
    if (r.unbacked_not_listed() > 0) std::cout << "... and " << r.unbacked_not_listed() << " more unbacked consents\n";
    std::cout << r.consent_checks_paired() << " consent answers relied on found in their issuer's log\n";
    std::cout << (clean ? "clean: every call is in both logs, every consent answer in its issuer's\n"
                        : "NOT CLEAN: see above\n");
  }
  return clean ? kOk : kFailed;
}

// One entry in plain Dutch, for the person who asked (AVG art. 15).
std::string Dutch(const v1::AuditEntry& e) {
  const std::string when = FormatRfc3339(SystemTime(std::chrono::seconds(e.time_unix_ms() / 1000)));
  std::string what;
  if (e.has_decision()) {
    const v1::DecisionRecord& d = e.decision();
    const std::string& a = d.action();
    std::string act = a == "signal.lookup"   ? "vroeg of het kind bekend is in het netwerk (verwijsindex)"
                      : a == "signal.notify" ? "meldde dat het ook een signaal over het kind heeft (match)"
                      : a == "audit.read"    ? "las voor inzage wat over het kind is vastgelegd"
                      : a == "node.ping"     ? "controleerde de verbinding voor het kind"
                      : a.starts_with("case.") ? "deed iets in een casusoverleg over het kind (" + a + ")"
                                               : "vroeg " + a;
    what = d.requester_org() + " " + act + ", doel " + d.purpose() +
           (d.allowed() ? ": toegestaan (regel " + d.rule_id() + ")" : ": geweigerd (" + d.reason() + ")");
  } else if (e.has_consent()) {
    const v1::ConsentEvent& c = e.consent();
    switch (c.kind()) {
      case v1::ConsentEvent::RECORDED: {
        what = "toestemming vastgelegd (" + c.receipt_id() + "), voor";
        for (const auto& p : c.purposes()) what += " " + p;
        what += ", gegevens";
        for (const auto& x : c.categories()) what += " " + x;
        what += ", geldig tot " + FormatRfc3339(SystemTime(std::chrono::seconds(c.valid_until_unix())));
        break;
      }
      case v1::ConsentEvent::REVOKED: what = "toestemming ingetrokken (" + c.receipt_id() + ")"; break;
      case v1::ConsentEvent::CONFIRMED:
        what = "toestemming opnieuw bevestigd na herstel van een back-up (" + c.receipt_id() + ")";
        break;
      case v1::ConsentEvent::STATUS_ANSWERED:
        what = c.asker_org() + " vroeg of toestemming " + c.receipt_id() + " nog geldt; antwoord: " +
               (EventState(c) == v1::CONSENT_ACTIVE        ? "geldig"
                : EventState(c) == v1::CONSENT_REVOKED     ? "ingetrokken"
                : EventState(c) == v1::CONSENT_UNCONFIRMED ? "niet bevestigd na herstel van een back-up"
                                                           : "onbekend");
        break;
      default: what = "toestemming: onbekende gebeurtenis";
    }
  } else if (e.has_disclosure()) {
    const v1::Disclosure& x = e.disclosure();
    what = x.to_org() + " kreeg " + std::to_string(x.items()) + " gegeven" + (x.items() == 1 ? "" : "s") + " (";
    for (int i = 0; i < x.categories_size(); ++i) what += (i > 0 ? ", " : "") + x.categories(i);
    what += ") te zien";
  } else {
    what = "andere vastlegging";
  }
  return when + "  " + what;
}

int Inzage(const Globals& g, const std::string& bsn_file) {
  auto text = ReadBsnText(bsn_file);
  if (!text.ok()) return Fail(text.status());
  v1::AuditInzageRequest req;
  WipeOnExit wipe_bsn(req.mutable_bsn());
  req.set_bsn(text->str());
  *text = PrivateText();
  v1::AuditInzageReport r;
  Globals longer = g;
  longer.timeout_ms = std::max(g.timeout_ms, kVerifyTimeoutMs);
  std::cerr << "reading what every node logged about this child ...\n";
  grpc::Status s = WithProgress("reading every node's log for this child",
                                [&] { return CallLocal(longer, &v1::LocalAudit::Stub::Inzage, req, &r); });
  if (!s.ok()) return Fail(s);
  bool complete = true;
  for (const auto& n : r.nodes()) complete = complete && n.error().empty() && n.problems().empty();
  if (g.json()) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const auto& n : r.nodes()) {
      nlohmann::ordered_json entries = nlohmann::ordered_json::array();
      for (const auto& e : n.entries()) entries.push_back(ProtoJson(e));
      nlohmann::ordered_json problems = nlohmann::ordered_json::array();
      for (const auto& p : n.problems()) {
        problems.push_back({{"kind", KindName(p.kind())}, {"seq", p.seq()}, {"detail", p.detail()}});
      }
      nodes.push_back({{"org", n.org()},
                       {"tree_size", n.tree_size()},
                       {"witnesses", n.witnesses()},
                       {"error", n.error()},
                       {"problems", problems},
                       {"entries", entries}});
    }
    PrintJson({{"complete", complete}, {"nodes", nodes}});
  } else {
    std::cout << "Inzage: wat de organisaties in het netwerk met de gegevens van dit kind hebben gedaan\n";
    for (const auto& n : r.nodes()) {
      std::cout << "\n" << n.org() << ":";
      if (!n.error().empty()) {
        std::cout << " NIET BEREIKBAAR (" << n.error() << "): deze organisatie kon niet worden gevraagd\n";
        continue;
      }
      std::cout << (n.entries().empty() ? " niets vastgelegd over dit kind\n" : "\n");
      for (const auto& e : n.entries()) std::cout << "  " << Dutch(e) << "\n";
      for (const auto& p : n.problems()) {
        std::cout << "  PROBLEEM " << KindName(p.kind()) << " bij " << p.seq() << ": " << p.detail() << "\n";
      }
    }
    if (!complete) std::cout << "\nNIET VOLLEDIG: zie hierboven\n";
  }
  return complete ? kOk : kFailed;
}

int Alarms(const Globals& g) {
  v1::AuditAlarmsRequest req;
  v1::AuditAlarmsResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalAudit::Stub::Alarms, req, &r);
  if (!s.ok()) return Fail(s);
  auto kind = [](const v1::QuotaAlarm& a) {
    return a.kind() == v1::QuotaAlarm::EXHAUSTED ? "exhausted" : "threshold_reached";
  };
  auto day = [](const v1::QuotaAlarm& a) {
    return FormatRfc3339(SystemTime(std::chrono::seconds(a.day() * 86400))).substr(0, 10);
  };
  if (g.json()) {
    nlohmann::ordered_json alarms = nlohmann::ordered_json::array();
    for (const auto& a : r.alarms()) {
      alarms.push_back({{"alarm_id", a.alarm_id()},
                        {"reporter_org", a.reporter_org()},
                        {"requester_org", a.requester_org()},
                        {"action", a.action()},
                        {"kind", kind(a)},
                        {"used", a.used()},
                        {"per_day", a.per_day()},
                        {"day", day(a)},
                        {"time", FormatRfc3339(SystemTime(std::chrono::seconds(a.time_ms() / 1000)))},
                        {"delivered", a.delivered()}});
    }
    PrintJson({{"alarms", alarms}});
    return kOk;
  }
  if (r.alarms().empty()) {
    std::cout << "Geen quotumalarmen.\n";
    return kOk;
  }
  for (const auto& a : r.alarms()) {
    std::cout << FormatRfc3339(SystemTime(std::chrono::seconds(a.time_ms() / 1000))) << "  " << a.reporter_org()
              << ": " << a.requester_org()
              << (a.kind() == v1::QuotaAlarm::EXHAUSTED ? " heeft het dagquotum opgebruikt voor "
                                                        : " nadert het dagquotum voor ")
              << a.action() << " (" << a.used() << " van " << a.per_day() << " op " << day(a) << ")"
              << (a.delivered() ? "" : "; nog niet bij de auditor") << "\n";
  }
  return kOk;
}

}  // namespace

void AddAuditCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Verantwoording: verify the audit logs of the network's nodes");
  audit->require_subcommand(1);
  static AuditArgs args;
  CLI::App* verify = audit->add_subcommand(
      "verify", "Fetch a node's audit log with proofs and check it against its signed checkpoint; exit 1 if not clean");
  verify->add_option("--node", args.node, "The organisation whose log to verify")->required();
  verify->add_option("--purpose", args.purpose, "Doelbinding: verantwoording or inzage")->capture_default_str();
  verify->callback([&g, exit_code] { *exit_code = VerifyLog(g, args, false); });

  CLI::App* replay = audit->add_subcommand(
      "replay",
      "Verify a node's log, then decide every logged decision again under the policy the log recorded for it;\n"
      "report every difference, unknown policy and gap; exit 1 if not clean");
  replay->add_option("--node", args.node, "The organisation whose log to replay")->required();
  replay->add_option("--purpose", args.purpose, "Doelbinding: verantwoording or inzage")->capture_default_str();
  replay->add_option("--since", args.since, "Only decisions from this time (RFC 3339)");
  replay->add_option("--until", args.until, "Only decisions before this time (RFC 3339)");
  replay->callback([&g, exit_code] { *exit_code = VerifyLog(g, args, true); });

  CLI::App* reconcile = audit->add_subcommand(
      "reconcile", "Pair both sides of every Peer call across all nodes' logs; report one-sided ones; exit 1 if any");
  reconcile->add_option("--purpose", args.purpose, "Doelbinding: verantwoording or inzage")->capture_default_str();
  reconcile->add_option("--settle", args.settle_seconds, "Calls of the last SECONDS are not judged (in flight)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  reconcile->callback([&g, exit_code] { *exit_code = Reconcile(g, args); });

  static std::string bsn_file;
  CLI::App* inzage = audit->add_subcommand(
      "inzage",
      "Inzage (AVG art. 15): everything the network's nodes logged about one child, per organisation, in Dutch\n"
      "The BSN is read from standard input (or --bsn-file), never from the command line.\n"
      "Example: casectl audit inzage < bsn.txt");
  inzage->add_option("--bsn-file", bsn_file, "Read the BSN from this file instead of standard input");
  inzage->callback([&g, exit_code] { *exit_code = Inzage(g, bsn_file); });

  CLI::App* alarms = audit->add_subcommand(
      "alarms",
      "Quota alarms: at the auditor node, every organisation that neared or used up its quota at a node\n"
      "(pseudonym derivation above all: enumeration is seen); at another node, the alarms it raised itself");
  alarms->callback([&g, exit_code] { *exit_code = Alarms(g); });
}

}  // namespace casenode::cli
