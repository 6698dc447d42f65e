// Maps a RocksDB status to absl::Status with a message naming `what`
// (a store or record kind, never a record key or value).
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "absl/status/status.h"
#include "base/reason.h"
#include "base/strings.h"

namespace casenode {

[[nodiscard]] inline absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = StrCat(what, ": ", s.ToString());
  if (s.IsNoSpace()) return Error(Reason::kDiskFull, StrCat(what, ": disk full: ", s.ToString()));
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return Error(Reason::kStoreCorrupt, msg);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::UnavailableError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

}  // namespace casenode
