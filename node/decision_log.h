// DecisionLog: every policy decision, written to the store by one writer
// thread with group commit.
//
// Append(kSynced) returns once the record is fsynced together with everything
// appended before it — or with the error, and the caller must then not answer
// (fail closed). Append(kBuffered), for decisions about calls that carry no
// personal data (a ping), returns at once; the record goes out with the next
// batch, within 50 ms, and only a crash in between loses it.
// Batching turns many small writes into one WriteBatch and one fsync.
// Thread-safe. The destructor writes everything still pending.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "node/store/store.h"

namespace casenode::node {

class DecisionLog {
 public:
  explicit DecisionLog(store::Store& store);
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  [[nodiscard]] absl::Status Append(store::Record record, store::Durability durability);

 private:
  struct Batch {
    std::vector<store::Record> records;
    bool durable = false;
    bool done = false;
    absl::Status status;
  };
  void Run();

  store::Store& store_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::shared_ptr<Batch> open_ = std::make_shared<Batch>();
  bool stop_ = false;
  std::thread writer_;  // last: starts after every other member is ready
};

}  // namespace casenode::node
