// WakeLoop: the retry loop under the match-notice and case-order queues
// (Notifier, CaseKeeper). Also run under ThreadSanitizer (deploy/tsan.sh).
#include "base/wake_loop.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <thread>
#include <vector>

using namespace casenode;
using namespace std::chrono_literals;

namespace {

// Polls until `done` holds (no fixed sleeps); false after 10 s.
template <typename Done>
bool Eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a wake loop runs its pass at once, then when kicked, not before its wait is over", "[base][wake_loop]") {
  std::atomic<int> passes{0};
  WakeLoop loop([&] {
    ++passes;
    return std::chrono::milliseconds(std::chrono::hours(1));  // the next pass only when kicked
  });
  loop.Start();
  REQUIRE(Eventually([&] { return passes == 1; }));
  for (int kick = 2; kick <= 5; ++kick) {
    loop.Kick();
    REQUIRE(Eventually([&] { return passes == kick; }));
  }
  loop.Stop();
  CHECK(passes == 5);
}

TEST_CASE("a kick during a pass is not lost: the pass runs again", "[base][wake_loop]") {
  std::atomic<int> passes{0};
  std::atomic<bool> in_pass{false}, release{false};
  WakeLoop loop([&] {
    if (++passes == 1) {
      in_pass = true;
      while (!release) std::this_thread::yield();
    }
    return std::chrono::milliseconds(std::chrono::hours(1));
  });
  loop.Start();
  REQUIRE(Eventually([&] { return in_pass.load(); }));
  loop.Kick();  // work arrived while the first pass ran
  release = true;
  REQUIRE(Eventually([&] { return passes == 2; }));
  loop.Stop();
}

TEST_CASE("stop waits for the pass under way, and the pass sees it stopping", "[base][wake_loop]") {
  std::atomic<bool> saw_stopping{false}, started{false};
  std::atomic<int> passes{0};
  WakeLoop* self = nullptr;
  WakeLoop loop([&] {
    ++passes;
    started = true;
    while (!self->stopping()) std::this_thread::yield();  // a long pass checks between items
    saw_stopping = true;
    return 0ms;
  });
  self = &loop;
  loop.Start();
  REQUIRE(Eventually([&] { return started.load(); }));
  loop.Stop();  // returns only after the pass returned
  CHECK(saw_stopping);
  CHECK(passes == 1);  // no pass after Stop
}

TEST_CASE("kicks from many threads while the loop stops: no pass after stop, no hang", "[base][wake_loop]") {
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> passes{0};
    std::atomic<bool> stopped{false}, pass_after_stop{false};
    WakeLoop loop([&] {
      if (stopped) pass_after_stop = true;
      ++passes;
      return 5ms;
    });
    loop.Start();
    std::vector<std::thread> kickers;
    for (int t = 0; t < 4; ++t) {
      kickers.emplace_back([&] {
        for (int i = 0; i < 200; ++i) loop.Kick();
      });
    }
    loop.Stop();
    stopped = true;
    for (auto& k : kickers) k.join();
    CHECK_FALSE(pass_after_stop);  // a Stop before the first pass may leave none at all
  }
}
