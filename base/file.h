// Small, durable file operations.
#pragma once

#include <span>
#include <string>
#include <sys/types.h>

#include "absl/status/statusor.h"
#include "base/encoding.h"

namespace casenode {

// Reads a whole file. NotFound if it does not exist; the message names the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `bytes` to `path` atomically and durably: a temporary file with
// `mode`, fsync, rename over `path`, fsync of the directory. A crash leaves
// either the old or the new content, never a mix.
absl::Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes, mode_t mode);
inline absl::Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode) {
  return WriteFileAtomic(path, AsBytes(text), mode);
}

// FailedPrecondition unless `path` is a regular file that only its owner can
// read or write (mode 0600 or 0400), as a key file must be.
absl::Status CheckOwnerOnly(const std::string& path);

}  // namespace casenode
