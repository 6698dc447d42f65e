#include "tests/support/local_network.h"

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "base/file.h"

namespace casenode::testing {
std::string CasenodeBin() { return CASENODE_BIN; }
std::string CasectlBin() { return CASECTL_BIN; }

const std::vector<std::string>& LocalNetwork::AllOrgs() {
  static const std::vector<std::string> orgs = {"school", "jeugdhulp", "politie", "gemeente", "auditor"};
  return orgs;
}

LocalNetwork::LocalNetwork(const std::vector<std::string>& orgs, const std::vector<std::string>& init_args)
    : orgs_(orgs) {
  auto ports = PortBlock::Reserve(static_cast<int>(orgs.size()));
  if (!ports.ok()) FAIL(ports.status().message());
  ports_ = *std::move(ports);
  base_port_ = ports_->base();
  net_ = dir_.path("net");
  std::vector<std::string> argv = {CasectlBin(), "network", "init", net_, "--base-port", std::to_string(base_port_)};
  for (const auto& org : orgs) argv.push_back("--org=" + org + ":" + org);
  argv.insert(argv.end(), init_args.begin(), init_args.end());
  RunResult r = Run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

LocalNetwork::~LocalNetwork() = default;

std::string LocalNetwork::Endpoint(const std::string& org) const {
  for (size_t i = 0; i < orgs_.size(); ++i) {
    if (orgs_[i] == org) return "127.0.0.1:" + std::to_string(base_port_ + static_cast<int>(i));
  }
  return {};
}

std::string LocalNetwork::Log(const std::string& org) const {
  std::ifstream in(NodeDir(org) + "/casenode.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void LocalNetwork::Start(const std::string& org) {
  procs_[org] = std::make_unique<Process>(std::vector<std::string>{CasenodeBin(), "--config", "casenode.toml"},
                                          NodeDir(org), NodeDir(org) + "/stdout.log", NodeDir(org) + "/casenode.log");
  // Ready when its Local service answers. The probe asks nothing of peers:
  // pinging peers that are not up yet would only put channels in backoff.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!procs_[org]->Running()) FAIL("node " << org << " exited while starting; log:\n" << Log(org));
    RunResult r = Casectl(org, {"--timeout-ms", "500", "-o", "json", "policy", "show"});
    if (r.exit_code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("node " << org << " did not become ready; log:\n" << Log(org));
}

void LocalNetwork::StartAll() {
  for (const auto& org : orgs_) Start(org);
  // Channels that tried a peer before it was up are in reconnect backoff;
  // poll until every node reaches every other (deadline 20 s).
  for (const auto& org : orgs_) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      RunResult r = Casectl(org, {"-o", "json", "node", "status"});
      if (r.exit_code == 0) break;
      if (std::chrono::steady_clock::now() > deadline) FAIL("node " << org << " does not reach all peers: " << r.out);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

RunResult LocalNetwork::Casectl(const std::string& org, const std::vector<std::string>& args,
                                const std::optional<std::string>& input) const {
  std::vector<std::string> argv = {CasectlBin()};
  if (!org.empty()) {
    argv.push_back("--socket");
    argv.push_back(Socket(org));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return RunWithInput(argv, input);
}

void LocalNetwork::Stop(const std::string& org, std::chrono::seconds grace) {
  process(org).Signal(SIGTERM);
  REQUIRE(process(org).Wait(grace) == 0);
}

nlohmann::json ParseJson(const RunResult& r) {
  INFO(r.out << r.err);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

nlohmann::json LocalNetwork::CasectlJson(const std::string& org, const std::vector<std::string>& args,
                                         int* exit_code) const {
  std::vector<std::string> full = args;
  full.push_back("-o");
  full.push_back("json");
  RunResult r = Casectl(org, full);
  if (exit_code != nullptr) *exit_code = r.exit_code;
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

nlohmann::json LocalNetwork::WaitForStatus(const std::string& org,
                                           const std::function<bool(const nlohmann::json&)>& done) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const nlohmann::json status = CasectlJson(org, {"node", "status"});
    if (done(status)) return status;
    if (std::chrono::steady_clock::now() > deadline) FAIL(org << " status never got there: " << status.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string EditedPolicy(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& edits) {
  const std::string out = dir.path("policy");
  std::filesystem::create_directories(out);
  std::vector<int> found(edits.size(), 0);
  for (const auto& e : std::filesystem::directory_iterator(CASENODE_SOURCE_DIR "/policy/network")) {
    if (!e.is_regular_file()) continue;
    std::string text = *ReadFile(e.path().string());
    for (size_t i = 0; i < edits.size(); ++i) {
      const auto& [from, to] = edits[i];
      for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
        ++found[i];
      }
    }
    REQUIRE(WriteFileAtomic(out + "/" + e.path().filename().string(), text, 0644).ok());
  }
  for (size_t i = 0; i < edits.size(); ++i) {
    INFO("not in the shipped policy: " << edits[i].first);
    REQUIRE(found[i] > 0);
  }
  return out;
}

std::string ShortRetentionPolicy(const TempDir& dir, int seconds) {
  return EditedPolicy(dir, {{"retention_seconds = 63072000", "retention_seconds = " + std::to_string(seconds)}});
}

std::string UnlimitedPolicy(const TempDir& dir) {
  const std::string out = dir.path("policy");
  std::filesystem::create_directories(out);
  const std::regex rate("rate_limit_per_minute = [0-9]+"), minute("per_minute = [0-9]+"), day("per_day = [0-9]+");
  for (const auto& e : std::filesystem::directory_iterator(CASENODE_SOURCE_DIR "/policy/network")) {
    if (!e.is_regular_file()) continue;
    std::string text = *ReadFile(e.path().string());
    text = std::regex_replace(text, rate, "rate_limit_per_minute = 1000000");
    text = std::regex_replace(text, minute, "per_minute = 1000000");
    text = std::regex_replace(text, day, "per_day = 1000000000");
    // Each member's share of a case, at the policy's maxima.
    text = std::regex_replace(text, std::regex("member_contributions = [0-9]+"), "member_contributions = 1000");
    text = std::regex_replace(text, std::regex("member_agreements = [0-9]+"), "member_agreements = 200");
    text = std::regex_replace(text, std::regex("member_bytes = [0-9]+"), "member_bytes = 3145728");
    REQUIRE(WriteFileAtomic(out + "/" + e.path().filename().string(), text, 0644).ok());
  }
  return out;
}

}  // namespace casenode::testing
