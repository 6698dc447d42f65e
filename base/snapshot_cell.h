// SnapshotCell<T>: a value that is replaced whole now and then (the policy,
// the manifest) and read on every call.
//
// std::atomic<std::shared_ptr> in libstdc++ 12 guards each load with a spin
// lock; with more handler threads than cores, a reader preempted inside it
// leaves the others spinning (measured: ~2 µs a Peer call on 2 cores). Here a
// reader takes no lock while the value is unchanged: each thread keeps the
// version it last read, and one atomic load of the cell's version tells it
// whether that is still current. Versions come from one process-wide counter
// and are never reused, so a kept version can only match the cell (and the
// value) it was read from, even at an address a destroyed cell once had.
// A thread keeps at most kSlots old values alive until it next reads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace casenode {

template <typename T>
class SnapshotCell {
 public:
  explicit SnapshotCell(std::shared_ptr<const T> value = nullptr) { Store(std::move(value)); }
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  void Store(std::shared_ptr<const T> value) {
    std::shared_ptr<const T> old;  // let go of after unlocking: its destructor may be long
    std::lock_guard<std::mutex> lock(mu_);
    old = std::exchange(value_, std::move(value));
    version_.store(NextVersion(), std::memory_order_release);
  }

  std::shared_ptr<const T> Load() const {
    thread_local std::array<Slot, kSlots> slots;
    Slot& slot = slots[slot_];
    if (slot.version == version_.load(std::memory_order_acquire)) return slot.value;
    const std::shared_ptr<const T> old = std::move(slot.value);  // let go of after unlocking
    std::lock_guard<std::mutex> lock(mu_);
    slot.version = version_.load(std::memory_order_relaxed);
    slot.value = value_;
    return slot.value;
  }

 private:
  static constexpr size_t kSlots = 4;
  struct Slot {
    uint64_t version = 0;  // 0: never a cell's version
    std::shared_ptr<const T> value;
  };
  static uint64_t NextVersion() {
    static std::atomic<uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  // Cells take the slots in turn, so a few live cells do not evict each other.
  static size_t NextSlot() {
    static std::atomic<size_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) % kSlots;
  }

  const size_t slot_ = NextSlot();
  mutable std::mutex mu_;
  std::shared_ptr<const T> value_;  // guarded by mu_
  std::atomic<uint64_t> version_{0};
};

}  // namespace casenode
