// Integration: running casenode as operators do. The systemd unit as
// systemd-analyze judges it, the notify protocol (READY, WATCHDOG,
// RELOADING, STOPPING) read from a NOTIFY_SOCKET this test listens on, and
// the health probe.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <string>

#include "base/file.h"
#include "tests/support/local_network.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::Process;
using casenode::testing::Run;
using casenode::testing::RunResult;

namespace {

// The unit as shipped, but starting the binary under test (systemd-analyze
// verify checks that ExecStart= names an executable).
std::string UnitUnderTest(const TempDir& tmp) {
  std::string unit = *ReadFile(CASENODE_SOURCE_DIR "/deploy/systemd/casenode.service");
  const std::string from = "/usr/bin/casenode";
  REQUIRE(unit.find(from) != std::string::npos);
  unit.replace(unit.find(from), from.size(), testing::CasenodeBin());
  const std::string path = tmp.path("casenode.service");
  REQUIRE(WriteFileAtomic(path, unit, 0644).ok());
  return path;
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // Reads messages until one contains `line` (each message is lines of
  // KEY=VALUE); fails after `timeout`. Returns what it read.
  std::string WaitFor(const std::string& line, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) FAIL("no " << line << " on the notify socket; read: " << seen);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      const std::string msg(buf, static_cast<size_t>(n));
      seen += msg + "|";
      if (("\n" + msg + "\n").find("\n" + line + "\n") != std::string::npos) return seen;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("the systemd unit verifies without a warning and is hardened to an exposure of 2.0 or better",
          "[integration][systemd]") {
  TempDir tmp;
  const std::string unit = UnitUnderTest(tmp);
  const RunResult verify = Run({"/usr/bin/systemd-analyze", "verify", "--man=no", unit});
  INFO(verify.out << verify.err);
  REQUIRE(verify.exit_code == 0);
  REQUIRE(verify.err.empty());  // a misspelt key only warns
  const RunResult security = Run({"/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=20", unit});
  INFO(security.out << security.err);
  REQUIRE(security.exit_code == 0);
  REQUIRE(security.out.find("Overall exposure level for casenode.service") != std::string::npos);
}

TEST_CASE("the daemon speaks the notify protocol: ready, a watchdog fed while healthy, reloading, stopping",
          "[integration][systemd]") {
  LocalNetwork net({"school"});
  TempDir tmp;
  NotifySocket notify(tmp.path("notify.sock"));
  Process node({testing::CasenodeBin(), "--config", "casenode.toml"}, net.NodeDir("school"),
               net.NodeDir("school") + "/stdout.log", net.NodeDir("school") + "/casenode.log",
               {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"});
  notify.WaitFor("READY=1");
  // Fed every 0.2 s: three in well under the 20 s allowed.
  for (int i = 0; i < 3; ++i) notify.WaitFor("WATCHDOG=1");
  node.Signal(SIGHUP);
  notify.WaitFor("RELOADING=1");
  notify.WaitFor("READY=1");
  notify.WaitFor("WATCHDOG=1");
  node.Signal(SIGTERM);
  notify.WaitFor("STOPPING=1");
  REQUIRE(node.Wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("casectl node health says SERVING with exit 0 while the node runs, and fails once it is gone",
          "[integration][ops]") {
  LocalNetwork net({"school"});
  net.Start("school");
  const RunResult up = net.Casectl("school", {"node", "health"});
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  REQUIRE(up.out == "SERVING\n");
  REQUIRE(net.CasectlJson("school", {"node", "health"})["status"] == "SERVING");
  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(20)) == 0);
  const RunResult down = net.Casectl("school", {"--timeout-ms", "1000", "node", "health"});
  INFO(down.out << down.err);
  REQUIRE(down.exit_code != 0);
  REQUIRE(down.out.empty());
  REQUIRE(down.err.find("the node does not answer on its Local socket") != std::string::npos);
}
