// LocalNetwork: a real network of casenode processes on loopback for
// integration tests. Created with the real `casectl network init` (real CA,
// certificates, sealed keys, signed manifest) in a temporary directory, on
// ports found free at start. Nodes are killed and the directory removed at
// scope exit.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace casenode::testing {

// Paths of the binaries under test (set by CMake).
std::string CasenodeBin();
std::string CasectlBin();

class LocalNetwork {
 public:
  static const std::vector<std::string>& AllOrgs();  // school, jeugdhulp, politie, gemeente, auditor

  // Creates (but does not start) a network of `orgs`; `init_args` are extra
  // arguments to casectl network init.
  explicit LocalNetwork(const std::vector<std::string>& orgs = AllOrgs(),
                        const std::vector<std::string>& init_args = {});
  ~LocalNetwork();

  // The network directory made by casectl network init.
  const std::string& dir() const { return net_; }
  std::string NodeDir(const std::string& org) const { return dir() + "/" + org; }
  std::string Socket(const std::string& org) const { return NodeDir(org) + "/local.sock"; }
  std::string Endpoint(const std::string& org) const;
  std::string Log(const std::string& org) const;

  // Starts the node and waits until its Local service answers (REQUIREs it).
  void Start(const std::string& org);
  void StartAll();
  // Stops the node with SIGTERM and REQUIREs a clean exit within `grace`.
  void Stop(const std::string& org, std::chrono::seconds grace = std::chrono::seconds(15));
  Process& process(const std::string& org) { return *procs_.at(org); }

  // casectl with --socket of `org` (if not empty) and the given arguments,
  // and `input` on its standard input.
  RunResult Casectl(const std::string& org, const std::vector<std::string>& args,
                    const std::optional<std::string>& input = std::nullopt) const;
  // casectl ... -o json, parsed; REQUIREs valid JSON on stdout.
  nlohmann::json CasectlJson(const std::string& org, const std::vector<std::string>& args,
                             int* exit_code = nullptr) const;
  // Polls `org`'s `node status` until `done` holds (no fixed sleeps); FAILs after 30 s.
  nlohmann::json WaitForStatus(const std::string& org, const std::function<bool(const nlohmann::json&)>& done) const;

 private:
  TempDir dir_;
  std::string net_;
  std::vector<std::string> orgs_;
  std::unique_ptr<PortBlock> ports_;
  int base_port_ = 0;
  std::map<std::string, std::unique_ptr<Process>> procs_;
};

// The JSON a command printed on stdout; REQUIREs valid JSON.
nlohmann::json ParseJson(const RunResult& r);

// A copy of the shipped network policy (policy/network) in `dir`/policy,
// whose closed cases and signals are kept `seconds`; returns its directory,
// for `casectl network init --policy`.
std::string ShortRetentionPolicy(const TempDir& dir, int seconds);
// A copy of the shipped network policy in `dir`/policy with every occurrence
// of each `from` replaced by its `to` (each must occur); returns its directory.
std::string EditedPolicy(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& edits);
// A copy with every rate limit and quota lifted, and each member's share of
// a case at its maximum (1,000 contributions, 3 MiB), for load tests.
std::string UnlimitedPolicy(const TempDir& dir);

}  // namespace casenode::testing
