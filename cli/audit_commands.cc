// casectl audit: the auditor's tools. `audit verify --node ORG` asks this
// node to fetch ORG's audit log with proofs and check it (see
// node/audit/verifier.h); exit 1 when anything is wrong.
#include <iostream>

#include "base/encoding.h"
#include "cli/commands.h"
#include "cli/local_client.h"
#include "nlohmann/json.hpp"

namespace casenode::cli {
namespace {

// A verification reads every entry: it gets more time than other calls.
constexpr int kVerifyTimeoutMs = 10 * 60 * 1000;

struct AuditArgs {
  std::string node;
  std::string purpose = "verantwoording";
};

std::string KindName(v1::AuditProblem::Kind kind) {
  std::string name = v1::AuditProblem::Kind_Name(kind);
  return name.empty() ? "UNKNOWN" : name;
}

int Verify(const Globals& g, const AuditArgs& a) {
  v1::AuditVerifyRequest req;
  req.set_org(a.node);
  req.set_purpose(a.purpose);
  v1::AuditVerifyReport r;
  Globals longer = g;
  longer.timeout_ms = std::max(g.timeout_ms, kVerifyTimeoutMs);
  std::cerr << "verifying the audit log of " << a.node << " ...\n";
  grpc::Status s = CallLocal(longer, &v1::LocalAudit::Stub::Verify, req, &r);
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
               {"clean", r.problems().empty()},
               {"problems", problems}});
  } else {
    std::cout << "audit log of " << r.org() << ": " << r.tree_size() << " entries, root "
              << HexEncode(AsBytes(r.root())) << "\n";
    if (r.previous_size() > 0) std::cout << "checked against the checkpoint of size " << r.previous_size() << " verified before\n";
    for (const auto& p : r.problems()) {
      std::cout << "PROBLEM " << KindName(p.kind());
      if (p.kind() != v1::AuditProblem::ROOT_MISMATCH && p.kind() != v1::AuditProblem::CHECKPOINT_INVALID) {
        std::cout << " at seq " << p.seq();
      }
      std::cout << ": " << p.detail() << "\n";
    }
    std::cout << (r.problems().empty() ? "clean: every entry is included in the signed checkpoint\n"
                                       : "NOT CLEAN: see the problems above\n");
  }
  return r.problems().empty() ? kOk : kFailed;
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
  verify->callback([&g, exit_code] { *exit_code = Verify(g, args); });
}

}  // namespace casenode::cli
