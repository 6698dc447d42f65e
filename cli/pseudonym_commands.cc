// casectl pseudonym derive: a child's network pseudonym from a BSN, derived
// by this node with t of the network's key holders.
//
// The BSN is never a command-line argument (ps and shell history would show
// it): it is read from standard input (a prompt without echo on a terminal)
// or from --bsn-file, and checked (9 digits, elfproef) before anything else.
#include <sodium.h>

#include <iostream>

#include "base/encoding.h"
#include "base/file.h"
#include "base/reason.h"
#include "cli/commands.h"
#include "cli/local_client.h"
#include "cli/private_input.h"

namespace casenode::cli {
namespace {

struct DeriveArgs {
  std::string bsn_file;
  std::string purpose;
  std::string legal_basis = "public_task";
};

int Derive(const Globals& g, const DeriveArgs& a) {
  auto text = ReadBsnText(a.bsn_file);
  if (!text.ok()) return Fail(text.status());
  v1::DerivePseudonymRequest req;
  WipeOnExit wipe_bsn(req.mutable_bsn());
  req.set_bsn(text->str());
  *text = PrivateText();
  req.set_purpose(a.purpose);
  req.set_legal_basis(a.legal_basis);
  v1::DerivePseudonymResponse resp;
  grpc::Status s = CallLocal(g, &v1::LocalPseudonyms::Stub::Derive, req, &resp);
  if (!s.ok()) return Fail(s);
  const std::string hex = HexEncode(AsBytes(resp.pseudonym()));
  if (g.json()) {
    nlohmann::ordered_json holders = nlohmann::ordered_json::array();
    for (const auto& h : resp.holders()) {
      holders.push_back({{"org", h.org()}, {"index", h.index()}, {"used", h.used()}, {"error", h.error()}});
    }
    PrintJson({{"pseudonym", hex}, {"holders", holders}});
  } else {
    std::cout << hex << "\n";
    for (const auto& h : resp.holders()) {
      if (!h.used()) std::cerr << "casectl: key holder " << h.org() << " did not serve: " << h.error() << "\n";
    }
  }
  return kOk;
}

}  // namespace

void AddPseudonymCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* pseudonym = app.add_subcommand("pseudonym", "Network pseudonyms of children");
  pseudonym->require_subcommand(1);
  static DeriveArgs derive;
  CLI::App* cmd =
      pseudonym->add_subcommand("derive",
                                "Derive a child's network pseudonym from the BSN on standard input (or --bsn-file)\n"
                                "Example: casectl pseudonym derive --purpose casusoverleg < bsn.txt");
  cmd->add_option("--bsn-file", derive.bsn_file, "File holding the BSN (never give the BSN itself as an argument)");
  cmd->add_option("--purpose", derive.purpose, "Doelbinding, e.g. vroegsignalering or casusoverleg")->required();
  cmd->add_option("--legal-basis", derive.legal_basis, "Grondslag")->capture_default_str();
  cmd->callback([&g, exit_code] { *exit_code = Derive(g, derive); });
}

}  // namespace casenode::cli
