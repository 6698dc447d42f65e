// WriterPreferringLock: a waiting writer goes before new readers.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "base/rw_lock.h"

using casenode::WriterPreferringLock;

TEST_CASE("a writer waiting on a reader goes before new readers", "[base]") {
  WriterPreferringLock lock;
  lock.lock_shared();  // a reader in its slow step
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::unique_lock<WriterPreferringLock> w(lock);
    written = true;
  });
  // Once the writer waits, no new reader gets in (a reader-preferring lock
  // would let them in forever: give up after 10 s).
  bool reader_kept_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!reader_kept_out && std::chrono::steady_clock::now() < deadline) {
    if (!lock.try_lock_shared()) {
      reader_kept_out = true;
    } else {
      lock.unlock_shared();
      std::this_thread::yield();
    }
  }
  REQUIRE(reader_kept_out);
  REQUIRE_FALSE(written);
  lock.unlock_shared();
  writer.join();
  REQUIRE(written);
  REQUIRE(lock.try_lock_shared());  // and readers come back after it
  lock.unlock_shared();
}
