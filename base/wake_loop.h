// WakeLoop: one background thread that runs a pass, waits as long as the pass
// asks (or until Kick), and runs it again, until Stop. The pass checks
// stopping() between items of long work. Thread-safe; the destructor stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace casenode {

class WakeLoop {
 public:
  using Pass = std::function<std::chrono::milliseconds()>;
  explicit WakeLoop(Pass pass) : pass_(std::move(pass)) {}
  ~WakeLoop() { Stop(); }
  WakeLoop(const WakeLoop&) = delete;
  WakeLoop& operator=(const WakeLoop&) = delete;

  void Start() {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_) {
        kicked_ = false;
        lock.unlock();
        const std::chrono::milliseconds wait = pass_();
        lock.lock();
        wake_.wait_for(lock, wait, [&] { return stop_ || kicked_; });
      }
    });
  }
  // Runs the pass again soon, rather than at the time it asked for.
  void Kick() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      kicked_ = true;
    }
    wake_.notify_one();
  }
  // Waits for the pass running now, if any, and ends the thread.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

 private:
  const Pass pass_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool kicked_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace casenode
