#include "tests/support/local_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace casenode::testing {
namespace {

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The first port the kernel hands out for outgoing connections: ports below
// it are never taken by a client socket between our check and the node's bind.
int EphemeralStart() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return low;
}

}  // namespace

// A run of `n` consecutive free loopback ports below the ephemeral range,
// reserved against every other test process by a lock file held until the
// network is destroyed (the probe alone would race another test's bind).
PortReservation::PortReservation(int n) {
  const int top = std::min(EphemeralStart(), 32768) - n;
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(::time(nullptr)));
  std::filesystem::create_directories("/tmp/casenode-test-ports");
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int base = 10000 + static_cast<int>(rng() % static_cast<unsigned>(top - 10000));
    const std::string lock = "/tmp/casenode-test-ports/" + std::to_string(base / 8);
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    // Reserve the whole block of 8 this lock names, and use a run inside it.
    const int block = (base / 8) * 8;
    bool all = n <= 8;
    for (int i = 0; i < n && all; ++i) all = PortFree(block + i);
    if (all) {
      lock_fd_ = fd;
      base_ = block;
      return;
    }
    ::close(fd);
  }
  FAIL("no free port range on loopback");
}

PortReservation::~PortReservation() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}


std::string CasenodeBin() { return CASENODE_BIN; }
std::string CasectlBin() { return CASECTL_BIN; }

const std::vector<std::string>& LocalNetwork::AllOrgs() {
  static const std::vector<std::string> orgs = {"school", "jeugdhulp", "politie", "gemeente", "auditor"};
  return orgs;
}

LocalNetwork::LocalNetwork(const std::vector<std::string>& orgs, const std::vector<std::string>& init_args)
    : orgs_(orgs), ports_(static_cast<int>(orgs.size())) {
  base_port_ = ports_.base();
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
