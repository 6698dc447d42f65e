// SnapshotCell: every Load returns the value of the last Store, from any
// thread, for any number of cells, even a cell built where another was.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "base/snapshot_cell.h"

using casenode::SnapshotCell;

TEST_CASE("a cell returns what was stored last, on the same thread", "[base]") {
  SnapshotCell<int> cell(std::make_shared<const int>(1));
  REQUIRE(*cell.Load() == 1);
  REQUIRE(*cell.Load() == 1);  // from this thread's slot
  cell.Store(std::make_shared<const int>(2));
  REQUIRE(*cell.Load() == 2);
  cell.Store(nullptr);
  REQUIRE(cell.Load() == nullptr);
}

TEST_CASE("cells that share a thread's slot keep their own values", "[base]") {
  std::vector<std::unique_ptr<SnapshotCell<int>>> cells;
  for (int i = 0; i < 9; ++i) cells.push_back(std::make_unique<SnapshotCell<int>>(std::make_shared<const int>(i)));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 9; ++i) REQUIRE(*cells[i]->Load() == i);
  }
  cells[4]->Store(std::make_shared<const int>(40));
  for (int i = 0; i < 9; ++i) REQUIRE(*cells[i]->Load() == (i == 4 ? 40 : i));
}

TEST_CASE("a cell built where another was does not return the old cell's value", "[base]") {
  alignas(SnapshotCell<int>) unsigned char storage[sizeof(SnapshotCell<int>)];
  auto* first = new (storage) SnapshotCell<int>(std::make_shared<const int>(1));
  REQUIRE(*first->Load() == 1);  // now in this thread's slot
  first->~SnapshotCell<int>();
  // Same address, and (cells take slots in turn) maybe the same slot: the
  // version still tells them apart.
  for (int i = 0; i < 4; ++i) {
    auto* again = new (storage) SnapshotCell<int>(std::make_shared<const int>(100 + i));
    REQUIRE(*again->Load() == 100 + i);
    again->~SnapshotCell<int>();
  }
}

TEST_CASE("a thread lets go of a replaced value when it next reads", "[base]") {
  SnapshotCell<int> cell(std::make_shared<const int>(1));
  std::weak_ptr<const int> old = cell.Load();
  cell.Store(std::make_shared<const int>(2));
  REQUIRE_FALSE(old.expired());  // this thread's slot still holds it
  REQUIRE(*cell.Load() == 2);
  REQUIRE(old.expired());
}

TEST_CASE("readers on other threads see every store, in order", "[base]") {
  SnapshotCell<int> cell(std::make_shared<const int>(0));
  constexpr int kLast = 20000;
  std::atomic<bool> stores_done{false};
  std::atomic<int> went_back{0};
  std::vector<std::thread> readers;
  std::vector<int> seen_after(4, -1);
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      int last = 0;
      while (!stores_done.load()) {
        const int now = *cell.Load();
        if (now < last) went_back.fetch_add(1);
        last = now;
      }
      seen_after[r] = *cell.Load();  // after the last store: its value
    });
  }
  for (int v = 1; v <= kLast; ++v) cell.Store(std::make_shared<const int>(v));
  stores_done = true;
  for (auto& t : readers) t.join();
  REQUIRE(went_back.load() == 0);
  for (int v : seen_after) REQUIRE(v == kLast);
}
