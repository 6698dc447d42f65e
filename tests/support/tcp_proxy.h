// TcpProxy: a loopback TCP relay for fault tests, standing where the
// manifest says a node listens and passing bytes on to where it really does,
// each chunk after a delay the test sets: a slow peer (this kernel has no
// tc netem).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace casenode::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:`listen_port`, relays to 127.0.0.1:`target_port`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int listen_port, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Each chunk waits this long before it is passed on, both ways.
  void SetDelay(std::chrono::milliseconds delay) { delay_ms_ = static_cast<int>(delay.count()); }
  // Connections accepted so far.
  int accepted() const { return accepted_; }

 private:
  TcpProxy() = default;
  void Accept();
  void Relay(int client, int server);

  int listen_fd_ = -1;
  int target_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> delay_ms_{0};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;  // shut down at destruction, so no relay blocks in send
  std::thread acceptor_;
};

}  // namespace casenode::testing
