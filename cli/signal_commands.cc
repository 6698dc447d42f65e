// casectl signal register|check|withdraw|list and casectl inbox: the school's
// question, "is this child already known in the network?", for staff.
//
// The BSN comes from standard input (first line) or --bsn-file; a contact
// point from --contact-file or the next line of standard input: neither is
// ever an argument.
#include <sodium.h>

#include <iostream>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/local_client.h"
#include "cli/private_input.h"
#include "network/manifest.h"

namespace casenode::cli {
namespace {

constexpr size_t kMaxContact = 256;

struct SignalArgs {
  std::string bsn_file;
  std::string contact_file;
  std::string purpose = "vroegsignalering";
  std::string category;
  std::string legal_basis = "public_task";
};

std::string SignalDate(int64_t ms) {
  return FormatRfc3339(SystemTime(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds(ms))));
}

nlohmann::ordered_json MatchJson(const v1::SignalMatch& m) {
  return {{"org", m.org()},
          {"role", network::RoleName(m.role())},
          {"contact", m.contact()},
          {"category", m.category()},
          {"since", SignalDate(m.since_ms())}};
}

nlohmann::ordered_json CheckJson(const v1::SignalCheckResult& r) {
  nlohmann::ordered_json matches = nlohmann::ordered_json::array(), denied = nlohmann::ordered_json::array();
  for (const auto& m : r.matches()) matches.push_back(MatchJson(m));
  for (const auto& d : r.denied()) denied.push_back({{"org", d.org()}, {"reason", d.reason()}});
  return {{"status", r.status() == v1::CHECK_COMPLETE ? "complete" : "incomplete"},
          {"matches", matches},
          {"denied", denied},
          {"unreachable", std::vector<std::string>(r.unreachable().begin(), r.unreachable().end())}};
}

void PrintCheck(const v1::SignalCheckResult& r) {
  if (r.matches_size() == 0) {
    // "Not known" only when every organisation looked and none refused.
    if (r.status() == v1::CHECK_COMPLETE && r.denied_size() == 0) {
      std::cout << "not known in the network (every organisation answered)\n";
    } else if (r.status() == v1::CHECK_COMPLETE) {
      std::cout << "no match among the organisations that looked; some refused (see below)\n";
    } else {
      std::cout << "no match among the organisations that answered: INCOMPLETE\n";
    }
  }
  for (const auto& m : r.matches()) {
    std::cout << "match: " << m.org() << " (" << network::RoleName(m.role()) << "), " << m.category() << " since "
              << SignalDate(m.since_ms()) << ", contact: " << m.contact() << "\n";
  }
  for (const auto& d : r.denied()) std::cout << "denied by " << d.org() << ": " << d.reason() << "\n";
  for (const auto& u : r.unreachable()) std::cout << "did not answer: " << u << "\n";
  if (r.status() != v1::CHECK_COMPLETE) std::cout << "status: incomplete (not every organisation answered)\n";
}

int Check(const Globals& g, const SignalArgs& a) {
  auto bsn = ReadBsnText(a.bsn_file);
  if (!bsn.ok()) return Fail(bsn.status());
  v1::CheckSignalRequest req;
  WipeOnExit wipe_bsn(req.mutable_bsn());
  req.set_bsn(bsn->str());
  *bsn = PrivateText();
  req.set_purpose(a.purpose);
  req.set_legal_basis(a.legal_basis);
  v1::SignalCheckResult r;
  grpc::Status s = CallLocal(g, &v1::LocalSignals::Stub::Check, req, &r);
  if (!s.ok()) return Fail(s);
  g.json() ? PrintJson(CheckJson(r)) : PrintCheck(r);
  return r.status() == v1::CHECK_COMPLETE ? kOk : kFailed;
}

int Register(const Globals& g, const SignalArgs& a) {
  auto bsn = ReadBsnText(a.bsn_file);
  if (!bsn.ok()) return Fail(bsn.status());
  auto contact = a.contact_file.empty() ? ReadPrivateLine("contact", "Contact point: ", kMaxContact)
                                        : ReadPrivateFile("--contact-file", a.contact_file, kMaxContact);
  if (!contact.ok()) return Fail(contact.status());
  v1::RegisterSignalRequest req;
  WipeOnExit wipe_bsn(req.mutable_bsn()), wipe_contact(req.mutable_contact());
  req.set_bsn(bsn->str());
  *bsn = PrivateText();
  req.set_contact(contact->str());
  req.set_purpose(a.purpose);
  req.set_category(a.category);
  req.set_legal_basis(a.legal_basis);
  v1::RegisterSignalResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalSignals::Stub::Register, req, &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"signal_id", r.signal_id()}, {"expires", SignalDate(r.expires_at_ms())}, {"check", CheckJson(r.check())}});
  } else {
    std::cout << "registered signal " << r.signal_id() << " (expires " << SignalDate(r.expires_at_ms()) << ")\n";
    PrintCheck(r.check());
  }
  return kOk;
}

}  // namespace

void AddSignalCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* signal = app.add_subcommand("signal", "Signalen: is this child already known in the network?");
  signal->require_subcommand(1);
  static SignalArgs args;
  auto common = [](CLI::App* cmd) {
    cmd->add_option("--bsn-file", args.bsn_file, "File holding the BSN (default: the first line of standard input)");
    cmd->add_option("--purpose", args.purpose, "Doelbinding")->capture_default_str();
    cmd->add_option("--legal-basis", args.legal_basis, "Grondslag")->capture_default_str();
  };
  CLI::App* reg = signal->add_subcommand(
      "register",
      "Register a signal on the child whose BSN is on standard input; holders of matching signals are told\n"
      "Example: printf '%s\\n%s\\n' \"$BSN\" 'J. de Vries, 036-1234567' | casectl signal register --category zorg");
  common(reg);
  reg->add_option("--category", args.category, "Kind of concern (a category of the policy)")->required();
  reg->add_option("--contact-file", args.contact_file,
                  "File holding your contact point (default: the next line of standard input)");
  reg->callback([&g, exit_code] { *exit_code = Register(g, args); });

  CLI::App* check = signal->add_subcommand(
      "check", "Ask the network whether the child (BSN on standard input) is known; exit 1 if incomplete");
  common(check);
  check->callback([&g, exit_code] { *exit_code = Check(g, args); });

  static std::string withdraw_id;
  CLI::App* withdraw = signal->add_subcommand("withdraw", "Withdraw a signal: it stops matching at once");
  withdraw->add_option("ID", withdraw_id, "Signal id (from register or list)")->required();
  withdraw->callback([&g, exit_code] {
    v1::WithdrawSignalRequest req;
    req.set_signal_id(withdraw_id);
    v1::WithdrawSignalResponse resp;
    grpc::Status s = CallLocal(g, &v1::LocalSignals::Stub::Withdraw, req, &resp);
    if (!s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    g.json() ? PrintJson({{"withdrawn", withdraw_id}}) : void(std::cout << "withdrew signal " << withdraw_id << "\n");
    *exit_code = kOk;
  });

  CLI::App* list = signal->add_subcommand("list", "This node's live signals");
  list->callback([&g, exit_code] {
    v1::ListSignalsResponse resp;
    grpc::Status s = CallLocal(g, &v1::LocalSignals::Stub::List, v1::ListSignalsRequest(), &resp);
    if (!s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : resp.signals()) {
      if (g.json()) {
        out.push_back({{"signal_id", r.signal_id()},
                       {"purpose", r.purpose()},
                       {"category", r.category()},
                       {"contact", r.contact()},
                       {"registered", SignalDate(r.registered_at_ms())},
                       {"expires", SignalDate(r.expires_at_ms())}});
      } else {
        std::cout << r.signal_id() << "  " << r.category() << "  registered " << SignalDate(r.registered_at_ms())
                  << "  expires " << SignalDate(r.expires_at_ms()) << "\n";
      }
    }
    if (g.json()) PrintJson(out);
    *exit_code = kOk;
  });

  CLI::App* inbox = app.add_subcommand("inbox", "Match notices: sent (delivered or pending) and received");
  inbox->callback([&g, exit_code] {
    v1::InboxResponse resp;
    grpc::Status s = CallLocal(g, &v1::LocalSignals::Stub::Inbox, v1::InboxRequest(), &resp);
    if (!s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& n : resp.notices()) {
      const std::string state = !n.sent()       ? "received"
                                : n.delivered() ? "delivered"
                                : n.refused()   ? "refused"
                                                : "pending";
      if (g.json()) {
        out.push_back({{"notice_id", n.notice_id()},
                       {"direction", n.sent() ? "sent" : "received"},
                       {"state", state},
                       {"other", MatchJson(n.other())},
                       {"time", SignalDate(n.time_ms())},
                       {"signal_ids", std::vector<std::string>(n.signal_ids().begin(), n.signal_ids().end())}});
      } else {
        if (n.other().contact().empty()) {  // a notice to an organisation that did not answer yet
          std::cout << SignalDate(n.time_ms()) << "  " << state << "  " << n.other().org()
                    << " did not answer the check; it is told when it is back\n";
        } else {
          std::cout << SignalDate(n.time_ms()) << "  " << state << "  match with " << n.other().org() << " ("
                    << network::RoleName(n.other().role()) << "), " << n.other().category()
                    << ", contact: " << n.other().contact() << "\n";
        }
      }
    }
    if (g.json()) PrintJson(out);
    *exit_code = kOk;
  });
}

}  // namespace casenode::cli
