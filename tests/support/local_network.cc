#include "tests/support/local_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace casenode::testing {
namespace {

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A run of `n` consecutive free loopback ports.
int FreePortRun(int n) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(::time(nullptr)));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = 20000 + static_cast<int>(rng() % 30000);
    bool all = true;
    for (int i = 0; i < n && all; ++i) all = PortFree(base + i);
    if (all) return base;
  }
  FAIL("no free port range on loopback");
  return 0;
}

}  // namespace

std::string CasenodeBin() { return CASENODE_BIN; }
std::string CasectlBin() { return CASECTL_BIN; }

const std::vector<std::string>& LocalNetwork::AllOrgs() {
  static const std::vector<std::string> orgs = {"school", "jeugdhulp", "politie", "gemeente", "auditor"};
  return orgs;
}

LocalNetwork::LocalNetwork(const std::vector<std::string>& orgs, const std::vector<std::string>& init_args)
    : orgs_(orgs) {
  base_port_ = FreePortRun(static_cast<int>(orgs.size()));
  net_ = dir_.path("net");
  std::vector<std::string> argv = {CasectlBin(), "network", "init", net_, "--base-port",
                                   std::to_string(base_port_)};
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
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    REQUIRE(procs_[org]->Running());
    RunResult r = Casectl(org, {"--timeout-ms", "500", "-o", "json", "node", "status"});
    if (r.out.find("\"org\"") != std::string::npos) return;
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

RunResult LocalNetwork::Casectl(const std::string& org, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {CasectlBin()};
  if (!org.empty()) {
    argv.push_back("--socket");
    argv.push_back(Socket(org));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
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

}  // namespace casenode::testing
