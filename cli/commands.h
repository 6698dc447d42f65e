// casectl's command tree. Each noun registers its verbs on the app; a verb's
// callback stores an exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"

#include "casenode/v1/types.pb.h"
#include "cli/output.h"

namespace casenode::cli {

void AddNetworkCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddNodeCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddKeysCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddPolicyCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddConsentCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddPseudonymCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddSignalCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddCaseCommands(CLI::App& app, const Globals& globals, int* exit_code);
void AddAuditCommands(CLI::App& app, const Globals& globals, int* exit_code);
// The raw 32 bytes of a pseudonym given as 64 hex digits (--subject).
absl::StatusOr<std::string> SubjectBytes(const std::string& hex);
// A receipt from a JSON file: what `consent show -o json` prints, or a bare receipt.
absl::StatusOr<v1::ConsentReceipt> ReadReceiptFile(const std::string& file);
// `policy show` and `policy reload`, which ask the node (added under `policy`).
void AddNodePolicyCommands(CLI::App& policy_cmd, const Globals& globals, int* exit_code);

}  // namespace casenode::cli
