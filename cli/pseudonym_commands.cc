// casectl pseudonym derive: a child's network pseudonym from a BSN, derived
// by this node with t of the network's key holders.
//
// The BSN is never a command-line argument (ps and shell history would show
// it): it is read from standard input (a prompt without echo on a terminal)
// or from --bsn-file, and checked (9 digits, elfproef) before anything else.
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/bsn.h"
#include "base/encoding.h"
#include "base/file.h"
#include "base/reason.h"
#include "cli/commands.h"
#include "cli/local_client.h"

namespace casenode::cli {
namespace {

// At most this much is read for a BSN: 9 digits and some whitespace.
constexpr size_t kMaxBsnInput = 64;

// Restores the terminal's echo when it goes out of scope.
class NoEcho {
 public:
  NoEcho() {
    if (::isatty(STDIN_FILENO) != 1 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~NoEcho() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// The BSN text from `file`, or else one line of standard input. The caller wipes it.
absl::StatusOr<std::string> ReadBsnText(const std::string& file) {
  if (!file.empty()) {
    auto text = ReadFile(file);
    if (!text.ok()) return Annotate("--bsn-file", text.status());
    if (text->size() > kMaxBsnInput) {
      sodium_memzero(text->data(), text->size());
      return Error(Reason::kInvalidBsn, "--bsn-file: a BSN is 9 digits; the file is longer than any BSN line");
    }
    return text;
  }
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (terminal) std::cerr << "BSN: " << std::flush;
  std::string line;
  {
    NoEcho quiet;
    for (int c; line.size() <= kMaxBsnInput && (c = std::getchar()) != EOF && c != '\n';) {
      line.push_back(static_cast<char>(c));
    }
  }
  if (terminal) std::cerr << "\n";
  if (line.size() > kMaxBsnInput) {
    sodium_memzero(line.data(), line.size());
    return Error(Reason::kInvalidBsn, "BSN on standard input: a BSN is 9 digits; the line is longer than any BSN");
  }
  return line;
}

struct DeriveArgs {
  std::string bsn_file;
  std::string purpose;
  std::string legal_basis = "public_task";
};

int Derive(const Globals& g, const DeriveArgs& a) {
  auto text = ReadBsnText(a.bsn_file);
  if (!text.ok()) return Fail(text.status());
  // Checked here first, so a mistyped BSN makes no call at all.
  const absl::Status valid = ParseBsn(*text).status();
  if (!valid.ok()) {
    sodium_memzero(text->data(), text->size());
    return Fail(valid);
  }
  v1::DerivePseudonymRequest req;
  req.set_bsn(*text);
  sodium_memzero(text->data(), text->size());
  req.set_purpose(a.purpose);
  req.set_legal_basis(a.legal_basis);
  v1::DerivePseudonymResponse resp;
  grpc::Status s = CallLocal(g, &v1::LocalPseudonyms::Stub::Derive, req, &resp);
  sodium_memzero(req.mutable_bsn()->data(), req.mutable_bsn()->size());
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
