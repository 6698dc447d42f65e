// Small, durable file operations.
#pragma once

#include <span>
#include <string>
#include <sys/types.h>

#include "absl/status/statusor.h"
#include "base/encoding.h"

namespace casenode {

// Reads a whole file. NotFound if it does not exist; the message names the path.
[[nodiscard]] absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `bytes` to `path` atomically and durably: a new temporary file with
// a random name beside `path` (O_EXCL | O_NOFOLLOW, so never a planted file or
// symlink), chmod to `mode` before the first byte, fsync, rename over `path`,
// fsync of the directory. A crash leaves either the old or the new content,
// never a mix; concurrent writers each replace the file whole; on failure the
// temporary file is removed. A symlink at `path` is replaced, not followed.
[[nodiscard]] absl::Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes, mode_t mode);
[[nodiscard]] inline absl::Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode) {
  return WriteFileAtomic(path, AsBytes(text), mode);
}

// FailedPrecondition unless `path` is a regular file (not a symlink, which is
// not followed), owned by the effective uid, that only its owner can read or
// write (mode 0600 or 0400), as a key file must be. This checks the path as it
// is now: to read the file, use OpenOwnerOnly, which checks what it opened.
[[nodiscard]] absl::Status CheckOwnerOnly(const std::string& path);
// The same checks on an open descriptor (fstat); `path` names it in errors.
[[nodiscard]] absl::Status CheckOwnerOnly(int fd, const std::string& path);

// An exclusive advisory lock (flock) on `path`, created if missing (mode
// 0600, not through a symlink), held until the object is destroyed or moved
// from. Lets one process at a time do a read-modify-write of files beside it.
class FileLock {
 public:
  // Unavailable, naming the path, if another holder has it.
  [[nodiscard]] static absl::StatusOr<FileLock> TryAcquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Opens `path` read-only without following a symlink (O_NOFOLLOW, so the
// last component only) and checks the descriptor with CheckOwnerOnly: what is
// checked is what is read, with no window to swap the file in between.
// Returns the descriptor; the caller closes it.
[[nodiscard]] absl::StatusOr<int> OpenOwnerOnly(const std::string& path);

}  // namespace casenode
