// casectl case convene | list | accept | decline | contribute | show | action | close:
// the gemeente's casusoverleg, for staff.
//
// What is personal or case content never goes on the command line: the BSN
// and the title come from standard input (or --bsn-file / --title-file), a
// contribution's text and an agreement's description from standard input or
// a file. Staff ids, organisation ids, categories and dates are arguments.
#include <sodium.h>

#include <iostream>
#include <iterator>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/local_client.h"
#include "cli/private_input.h"
#include "network/manifest.h"

namespace casenode::cli {
namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxText = 16 * 1024;
constexpr size_t kMaxDescription = 1024;

std::string CaseDate(int64_t ms) {
  if (ms <= 0) return "-";
  return FormatRfc3339(SystemTime(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds(ms))));
}

std::string Day(int64_t ms) { return CaseDate(ms).substr(0, 10); }

// YYYY-MM-DD as midnight UTC, in ms; the error names `option`.
absl::StatusOr<int64_t> ParseDay(const std::string& day, std::string_view option) {
  if (day.size() != 10) return absl::InvalidArgumentError(std::string(option) + ": expected YYYY-MM-DD");
  auto t = ParseRfc3339(day + "T00:00:00Z", option);
  if (!t.ok()) return absl::InvalidArgumentError(std::string(option) + ": expected YYYY-MM-DD");
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

// The rest of standard input (or `file`), at most `max` bytes, without a final newline.
absl::StatusOr<PrivateText> ReadText(std::string_view what, const std::string& file, std::string_view option,
                                     size_t max) {
  if (!file.empty()) return ReadPrivateFile(option, file, max);
  PrivateText read;
  std::string& text = read.mutable_str();
  text.reserve(max + 1 + 4096);  // no reallocation leaves a copy behind
  char buf[4096];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    text.append(buf, static_cast<size_t>(std::cin.gcount()));
    if (text.size() > max + 1) break;
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() > max) {
    return absl::InvalidArgumentError(std::string(what) + ": at most " + std::to_string(max) + " bytes");
  }
  if (text.empty()) return absl::InvalidArgumentError(std::string(what) + ": empty (give it on standard input)");
  return read;
}

std::string_view StateName(v1::CaseState s) {
  switch (s) {
    case v1::CASE_INVITED: return "invited";
    case v1::CASE_OPEN: return "open";
    case v1::CASE_CLOSED: return "closed";
    case v1::CASE_DESTROYED: return "destroyed";
    case v1::CASE_DECLINED: return "declined";
    default: return "unknown";
  }
}

std::string_view MemberStateName(v1::MemberState s) {
  switch (s) {
    case v1::MEMBER_INVITED: return "invited";
    case v1::MEMBER_ACCEPTED: return "accepted";
    case v1::MEMBER_DECLINED: return "declined";
    default: return "unknown";
  }
}

nlohmann::ordered_json IndexJson(const v1::CaseIndex& i) {
  nlohmann::ordered_json members = nlohmann::ordered_json::array();
  for (const auto& m : i.members()) {
    members.push_back({{"org", m.org()},
                       {"role", network::RoleName(m.role())},
                       {"state", MemberStateName(m.state())},
                       {"invitation_delivered", m.invitation_delivered()},
                       {"declined_reason", m.declined_reason()},
                       {"destroyed", m.destroyed()}});
  }
  return {{"case_id", i.case_id()},      {"convener", i.convener_org()},       {"state", StateName(i.state())},
          {"created", CaseDate(i.created_at_ms())}, {"closed", CaseDate(i.closed_at_ms())}, {"destroy_at", CaseDate(i.destroy_at_ms())},
          {"destroyed", CaseDate(i.destroyed_at_ms())}, {"members", members}};
}

nlohmann::ordered_json ActionJson(const v1::CaseActionView& a) {
  return {{"action_id", a.action_id()},
          {"owner_org", a.owner_org()},
          {"owner", a.owner_staff()},
          {"due", Day(a.due_ms())},
          {"status", a.status() == v1::ACTION_DONE ? "done" : "open"},
          {"overdue", a.overdue()},
          {"description", a.description()},
          {"added_by", a.added_by_org()}};
}

void PrintAction(const v1::CaseActionView& a) {
  std::cout << "  [" << (a.status() == v1::ACTION_DONE ? "done" : "open") << "] " << a.action_id() << "  "
            << a.owner_org() << "/" << a.owner_staff() << "  due " << Day(a.due_ms())
            << (a.overdue() ? "  OVERDUE" : "") << "\n      " << a.description() << "\n";
}

nlohmann::ordered_json ViewJson(const v1::CaseView& v) {
  nlohmann::ordered_json contributions = nlohmann::ordered_json::array(), withheld = nlohmann::ordered_json::array(),
                         actions = nlohmann::ordered_json::array();
  for (const auto& c : v.contributions()) {
    contributions.push_back({{"contribution_id", c.contribution_id()},
                             {"author", c.author_org()},
                             {"role", network::RoleName(c.author_role())},
                             {"category", c.category()},
                             {"legal_basis", c.legal_basis()},
                             {"time", CaseDate(c.time_ms())},
                             {"text", c.text()}});
  }
  for (const auto& w : v.withheld()) {
    withheld.push_back({{"contribution_id", w.contribution_id()},
                        {"author", w.author_org()},
                        {"category", w.category()},
                        {"reason", w.reason()},
                        {"time", CaseDate(w.time_ms())}});
  }
  for (const auto& a : v.actions()) actions.push_back(ActionJson(a));
  return {{"case", IndexJson(v.index())}, {"title", v.title()},          {"regisseur", v.regisseur()},
          {"purpose", v.purpose()},       {"legal_basis", v.legal_basis()}, {"contributions", contributions},
          {"withheld", withheld},         {"actions", actions}};
}

void PrintView(const v1::CaseView& v) {
  const v1::CaseIndex& i = v.index();
  std::cout << "case " << i.case_id() << "  " << StateName(i.state()) << "\n"
            << "  title: " << v.title() << "\n"
            << "  regisseur: " << v.regisseur() << " (" << i.convener_org() << ")\n"
            << "  purpose: " << v.purpose() << ", legal basis: " << v.legal_basis() << "\n";
  if (i.destroy_at_ms() > 0) std::cout << "  closed " << CaseDate(i.closed_at_ms()) << ", destroyed at " << CaseDate(i.destroy_at_ms()) << "\n";
  std::cout << "members:\n";
  for (const auto& m : i.members()) {
    std::cout << "  " << m.org() << " (" << network::RoleName(m.role()) << "): " << MemberStateName(m.state())
              << (m.invitation_delivered() ? "" : ", invitation not yet delivered")
              << (m.declined_reason().empty() ? "" : ", " + m.declined_reason()) << "\n";
  }
  std::cout << "contributions:\n";
  for (const auto& c : v.contributions()) {
    std::cout << "  " << CaseDate(c.time_ms()) << "  " << c.author_org() << "  [" << c.category() << ", "
              << c.legal_basis() << "]\n      " << c.text() << "\n";
  }
  for (const auto& w : v.withheld()) {
    std::cout << "  " << CaseDate(w.time_ms()) << "  " << w.author_org() << "  [" << w.category()
              << "]  WITHHELD: " << w.reason() << "\n";
  }
  std::cout << "agreements:\n";
  for (const auto& a : v.actions()) PrintAction(a);
}

struct ConveneArgs {
  std::string bsn_file, title_file, purpose = "casusoverleg", legal_basis = "public_task", regisseur;
  std::vector<std::string> invite, consent_files;
};

int Convene(const Globals& g, const ConveneArgs& a) {
  v1::ConveneCaseRequest req;
  for (const auto& f : a.consent_files) {
    auto receipt = ReadReceiptFile(f);
    if (!receipt.ok()) return Fail(receipt.status());
    *req.add_consent_receipts() = *std::move(receipt);
  }
  auto bsn = ReadBsnText(a.bsn_file);
  if (!bsn.ok()) return Fail(bsn.status());
  auto title = a.title_file.empty() ? ReadPrivateLine("title", "Title: ", kMaxTitle)
                                    : ReadPrivateFile("--title-file", a.title_file, kMaxTitle);
  if (!title.ok()) return Fail(title.status());
  WipeOnExit wipe_bsn(req.mutable_bsn()), wipe_title(req.mutable_title());
  req.set_bsn(bsn->str());
  *bsn = PrivateText();
  req.set_title(title->str());
  req.set_purpose(a.purpose);
  req.set_legal_basis(a.legal_basis);
  req.set_regisseur(a.regisseur);
  for (const auto& org : a.invite) req.add_invite(org);
  v1::ConveneCaseResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalCases::Stub::Convene, req, &r);
  if (!s.ok()) return Fail(s);
  g.json() ? PrintJson({{"case_id", r.case_id()}})
           : void(std::cout << "convened case " << r.case_id() << "; invitations go out now\n");
  return kOk;
}

template <typename Stub, typename Request, typename Response>
int Call(const Globals& g, Stub method, const Request& req, Response* resp) {
  grpc::Status s = CallLocal(g, method, req, resp);
  return s.ok() ? kOk : Fail(s);
}

}  // namespace

void AddCaseCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* cases = app.add_subcommand("case", "Casusoverleg: convene, take part in and close a multidisciplinary case");
  cases->require_subcommand(1);

  static ConveneArgs conv;
  CLI::App* convene = cases->add_subcommand(
      "convene",
      "Convene a case about the child whose BSN is the first line of standard input; the title is the next line\n"
      "Example: printf '%s\\n%s\\n' \"$BSN\" 'Zorgen thuissituatie' | casectl case convene --regisseur rg-01 \\\n"
      "           --invite school --invite jeugdhulp --invite politie --consent ouders.json");
  convene->add_option("--invite", conv.invite, "Organisation to invite (repeatable)")->required();
  convene->add_option("--regisseur", conv.regisseur, "Your pseudonymous staff id (the regisseur)")
      ->required()
      ->envname("CASENODE_STAFF_ID");
  convene->add_option("--purpose", conv.purpose, "Doelbinding")->capture_default_str();
  convene->add_option("--legal-basis", conv.legal_basis, "Grondslag of the case itself")->capture_default_str();
  convene->add_option("--consent", conv.consent_files, "A consent receipt (JSON file) about this child, repeatable");
  convene->add_option("--bsn-file", conv.bsn_file, "File holding the BSN (default: standard input)");
  convene->add_option("--title-file", conv.title_file, "File holding the title (default: standard input)");
  convene->callback([&g, exit_code] { *exit_code = Convene(g, conv); });

  CLI::App* list = cases->add_subcommand("list", "The cases this node takes part in: invitations, states, pending work");
  list->callback([&g, exit_code] {
    v1::ListCasesResponse resp;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::List, v1::ListCasesRequest(), &resp)) != kOk) return;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& c : resp.cases()) {
      if (g.json()) {
        nlohmann::ordered_json j = IndexJson(c.index());
        j["convened_here"] = c.convener();
        j["overdue_actions"] = c.overdue_actions();
        j["pending_orders"] = c.pending_orders();
        out.push_back(std::move(j));
      } else {
        std::cout << c.index().case_id() << "  " << StateName(c.index().state()) << "  convener "
                  << c.index().convener_org();
        if (c.index().state() == v1::CASE_INVITED) std::cout << "  (answer with case accept|decline)";
        if (c.overdue_actions() > 0) std::cout << "  " << c.overdue_actions() << " agreement(s) OVERDUE";
        if (c.pending_orders() > 0) std::cout << "  " << c.pending_orders() << " order(s) not yet delivered";
        std::cout << "\n";
      }
    }
    if (g.json()) PrintJson(out);
  });

  static std::string answer_id;
  for (bool accept : {true, false}) {
    CLI::App* cmd = cases->add_subcommand(accept ? "accept" : "decline",
                                          accept ? "Take part in a case this node is invited to (its policy decides too)"
                                                 : "Decline an invitation; this node destroys its copy of the case key");
    cmd->add_option("ID", answer_id, "Case id")->required();
    cmd->callback([&g, exit_code, accept] {
      v1::AnswerCaseRequest req;
      req.set_case_id(answer_id);
      req.set_accept(accept);
      v1::AnswerCaseResponse resp;
      if ((*exit_code = Call(g, &v1::LocalCases::Stub::Answer, req, &resp)) != kOk) return;
      g.json() ? PrintJson({{"case_id", answer_id}, {"accepted", accept}})
               : void(std::cout << (accept ? "accepted" : "declined") << " case " << answer_id << "\n");
    });
  }

  static std::string contribute_id, category, basis, text_file;
  CLI::App* contribute = cases->add_subcommand(
      "contribute", "Add a contribution (text on standard input or --file) of one data category");
  contribute->add_option("ID", contribute_id, "Case id")->required();
  contribute->add_option("--category", category, "Data category (onderwijs, zorg, justitieel, contact, signaal, ...)")
      ->required();
  contribute->add_option("--legal-basis", basis, "Grondslag it is shared on (default: the case's)");
  contribute->add_option("--file", text_file, "File holding the text (default: standard input)");
  contribute->callback([&g, exit_code] {
    auto text = ReadText("text", text_file, "--file", kMaxText);
    if (!text.ok()) {
      *exit_code = Fail(text.status());
      return;
    }
    v1::ContributeCaseRequest req;
    req.set_case_id(contribute_id);
    req.set_category(category);
    req.set_legal_basis(basis);
    WipeOnExit wipe_text(req.mutable_text());
    req.set_text(text->str());
    v1::ContributeCaseResponse resp;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::Contribute, req, &resp)) != kOk) return;
    g.json() ? PrintJson({{"contribution_id", resp.contribution_id()}})
             : void(std::cout << "added contribution " << resp.contribution_id() << "\n");
  });

  static std::string show_id;
  CLI::App* show = cases->add_subcommand("show", "The case as you may read it: what is withheld is listed with its reason");
  show->add_option("ID", show_id, "Case id")->required();
  show->callback([&g, exit_code] {
    v1::ShowCaseRequest req;
    req.set_case_id(show_id);
    v1::CaseView view;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::Show, req, &view)) != kOk) return;
    g.json() ? PrintJson(ViewJson(view)) : PrintView(view);
  });

  CLI::App* action = cases->add_subcommand("action", "Agreements: who takes it up, by when");
  action->require_subcommand(1);
  static std::string action_case, action_id, owner_org, owner, due, status = "open", description_file;
  CLI::App* add = action->add_subcommand("add", "Add an agreement (description on standard input or --description-file)");
  add->add_option("ID", action_case, "Case id")->required();
  add->add_option("--owner-org", owner_org, "Organisation that takes it up")->required();
  add->add_option("--owner", owner, "Pseudonymous staff id of who takes it up")->required();
  add->add_option("--due", due, "Due date, YYYY-MM-DD")->required();
  add->add_option("--description-file", description_file, "File holding the description");
  add->callback([&g, exit_code] {
    auto due_ms = ParseDay(due, "--due");
    if (!due_ms.ok()) {
      *exit_code = Fail(due_ms.status());
      return;
    }
    auto text = ReadText("description", description_file, "--description-file", kMaxDescription);
    if (!text.ok()) {
      *exit_code = Fail(text.status());
      return;
    }
    v1::SetActionRequest req;
    req.set_case_id(action_case);
    req.set_owner_org(owner_org);
    req.set_owner_staff(owner);
    req.set_due_ms(*due_ms);
    req.set_status(v1::ACTION_OPEN);
    WipeOnExit wipe_description(req.mutable_description());
    req.set_description(text->str());
    v1::CaseActionView resp;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::SetAction, req, &resp)) != kOk) return;
    g.json() ? PrintJson(ActionJson(resp)) : void(std::cout << "added agreement " << resp.action_id() << "\n");
  });
  CLI::App* update = action->add_subcommand("update", "Mark an agreement done or open, or move its due date");
  update->add_option("ID", action_case, "Case id")->required();
  update->add_option("ACTION", action_id, "Agreement id")->required();
  update->add_option("--status", status, "open or done")->check(CLI::IsMember({"open", "done"}))->required();
  update->add_option("--due", due, "New due date, YYYY-MM-DD");
  update->callback([&g, exit_code] {
    v1::SetActionRequest req;
    req.set_case_id(action_case);
    req.set_action_id(action_id);
    req.set_status(status == "done" ? v1::ACTION_DONE : v1::ACTION_OPEN);
    if (!due.empty()) {
      auto due_ms = ParseDay(due, "--due");
      if (!due_ms.ok()) {
        *exit_code = Fail(due_ms.status());
        return;
      }
      req.set_due_ms(*due_ms);
    }
    v1::CaseActionView resp;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::SetAction, req, &resp)) != kOk) return;
    g.json() ? PrintJson(ActionJson(resp)) : PrintAction(resp);
  });
  CLI::App* alist = action->add_subcommand("list", "The case's agreements, overdue ones flagged");
  alist->add_option("ID", action_case, "Case id")->required();
  alist->callback([&g, exit_code] {
    v1::ShowCaseRequest req;
    req.set_case_id(action_case);
    v1::CaseView view;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::Show, req, &view)) != kOk) return;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& a : view.actions()) g.json() ? out.push_back(ActionJson(a)) : PrintAction(a);
    if (g.json()) PrintJson(out);
  });

  static std::string close_id;
  CLI::App* close = cases->add_subcommand("close", "Close a case this node convened: its bewaartermijn starts");
  close->add_option("ID", close_id, "Case id")->required();
  close->callback([&g, exit_code] {
    v1::CloseCaseLocalRequest req;
    req.set_case_id(close_id);
    v1::CloseCaseLocalResponse resp;
    if ((*exit_code = Call(g, &v1::LocalCases::Stub::Close, req, &resp)) != kOk) return;
    g.json() ? PrintJson({{"case_id", close_id}, {"destroy_at", CaseDate(resp.destroy_at_ms())}})
             : void(std::cout << "closed case " << close_id << "; it is destroyed everywhere at "
                              << CaseDate(resp.destroy_at_ms()) << "\n");
  });
}

}  // namespace casenode::cli
