// casectl: the command line for staff, operators and auditors. It talks to
// its own node's Local service only, never to peers.
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "base/process.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "node/rpc/status.h"

namespace casenode::cli {

namespace {

// `casectl completion bash`: a completion script generated from the command tree.
void AddCompletion(CLI::App& app, int* exit_code) {
  CLI::App* completion = app.add_subcommand("completion", "Print a shell completion script");
  CLI::App* bash = completion->add_subcommand("bash", "Bash completion: source <(casectl completion bash)");
  completion->require_subcommand(1);
  bash->callback([&app, exit_code] {
    std::cout << "# bash completion for casectl\n_casectl() {\n  local cur=${COMP_WORDS[COMP_CWORD]}\n"
              << "  local path=\"${COMP_WORDS[*]:1:COMP_CWORD-1}\"\n  local words\n  case \"$path\" in\n";
    std::function<void(const CLI::App*, const std::string&)> walk = [&](const CLI::App* a, const std::string& prefix) {
      std::string words;
      for (const CLI::App* sub : a->get_subcommands({})) words += sub->get_name() + " ";
      for (const CLI::Option* opt : a->get_options()) {
        for (const std::string& name : opt->get_lnames()) words += "--" + name + " ";
      }
      std::cout << "    \"" << prefix << "\") words=\"" << words << "\" ;;\n";
      for (const CLI::App* sub : a->get_subcommands({})) {
        walk(sub, prefix.empty() ? sub->get_name() : prefix + " " + sub->get_name());
      }
    };
    walk(&app, "");
    std::cout << "    *) words=\"\" ;;\n  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n"
              << "complete -F _casectl casectl\n";
    *exit_code = kOk;
  });
}

}  // namespace
}  // namespace casenode::cli

int main(int argc, char** argv) {
  using namespace casenode::cli;
  casenode::DisableCoreDumps();  // casectl holds BSNs and contact points while it sends them
  if (sodium_init() < 0) return kFailed;
  CLI::App app{
      "casectl: command line for a casenode (staff, operators, auditors).\n"
      "Talks to its own node's Local service on a Unix socket.\n\n"
      "Examples:\n"
      "  casectl network init ./net                 create a local five-node network\n"
      "  casectl --socket ./net/school/local.sock node status\n"
      "  casectl node ping jeugdhulp --output json\n",
      "casectl"};
  app.set_version_flag("--version", "casectl " CASENODE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand: casectl node status -o json
  Globals globals;
  const char* env_socket = std::getenv("CASENODE_SOCKET");
  globals.socket = env_socket != nullptr ? env_socket : "/run/casenode/local.sock";
  app.add_option("--socket", globals.socket, "Local service socket (env CASENODE_SOCKET)")->capture_default_str();
  app.add_option("--output,-o", globals.output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--timeout-ms", globals.timeout_ms, "Deadline for the call to the node")->capture_default_str();

  int exit_code = kOk;
  AddNetworkCommands(app, globals, &exit_code);
  AddNodeCommands(app, globals, &exit_code);
  AddKeysCommands(app, globals, &exit_code);
  AddPolicyCommands(app, globals, &exit_code);
  AddConsentCommands(app, globals, &exit_code);
  AddPseudonymCommands(app, globals, &exit_code);
  AddSignalCommands(app, globals, &exit_code);
  AddCaseCommands(app, globals, &exit_code);
  AddAuditCommands(app, globals, &exit_code);
  AddCompletion(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message naming the flag or argument
    return kUsage;
  }
  return exit_code;
}
