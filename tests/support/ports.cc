#include "tests/support/ports.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace casenode::testing {

namespace {

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int EphemeralStart() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return low;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PortBlock>> PortBlock::Reserve(int n) {
  // Below the ephemeral range, so no outgoing connection takes one of them
  // between this check and the nodes' bind; one lock file per block of 8.
  constexpr int kBlock = 8;
  const int blocks = (n + kBlock - 1) / kBlock;
  const int first_block = 10000 / kBlock;
  const int last_block = std::min(EphemeralStart(), 32768) / kBlock - blocks;
  const std::string lock_dir = "/tmp/casenode-test-ports";
  std::error_code ec;
  std::filesystem::create_directories(lock_dir, ec);
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int start = first_block + static_cast<int>(rng() % static_cast<unsigned>(last_block - first_block));
    std::unique_ptr<PortBlock> block(new PortBlock());
    bool all = true;
    for (int b = start; b < start + blocks && all; ++b) {
      const int fd = ::open((lock_dir + "/" + std::to_string(b)).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) {
        all = false;
        break;
      }
      block->lock_fds_.push_back(fd);  // closed by ~PortBlock, locked or not
      all = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    }
    for (int p = start * kBlock; p < start * kBlock + n && all; ++p) all = PortFree(p);
    if (all) {
      block->base_ = start * kBlock;
      return block;
    }
  }
  return absl::UnavailableError("no run of " + std::to_string(n) + " free loopback ports");
}

PortBlock::~PortBlock() {
  for (int fd : lock_fds_) ::close(fd);
}

}  // namespace casenode::testing
