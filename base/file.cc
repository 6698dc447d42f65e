#include "base/file.h"

#include <sys/file.h>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace casenode {
namespace {

absl::Status ErrnoError(std::string_view op, const std::string& path) {
  const int e = errno;
  const std::string msg = StrCat(op, " ", path, ": ", std::strerror(e));
  if (e == ENOENT) return absl::NotFoundError(msg);
  if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(msg);
  if (e == ENOSPC || e == EDQUOT) return absl::ResourceExhaustedError(msg);
  return absl::UnavailableError(msg);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("cannot open", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return ErrnoError("cannot read", path);
  return std::move(ss).str();
}

absl::Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes, mode_t mode) {
  // A fresh, unpredictable name in the same directory (rename is atomic only
  // within one file system), created with O_EXCL | O_NOFOLLOW: we never open
  // a file or symlink someone else planted, and two writers never share one.
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    uint8_t suffix[8];
    randombytes_buf(suffix, sizeof suffix);
    tmp = StrCat(path, ".tmp-", HexEncode(suffix));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && (errno != EEXIST || attempt == 8)) return ErrnoError("cannot create", tmp);
  }
  // Every failure from here on closes and removes the temporary file.
  auto fail = [&](std::string_view op) {
    absl::Status s = ErrnoError(op, tmp);
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  // The final mode before the first byte: the content is never readable by
  // more (or fewer) users than `mode` says, whatever the umask.
  if (::fchmod(fd, mode) != 0) return fail("cannot chmod");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail("cannot close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = ErrnoError("cannot rename to", path);
    ::unlink(tmp.c_str());
    return s;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckOwnerOnlyStat(const struct stat& st, const std::string& path) {
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat(path, ": is a symbolic link; a key file must be a regular file (give its real path)"));
  }
  if (!S_ISREG(st.st_mode)) return absl::FailedPreconditionError(StrCat(path, ": not a regular file"));
  // Another user's file could be replaced by that user at any time, however
  // strict its mode.
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(StrCat(path, ": owned by uid ", st.st_uid, ", but this process runs as uid ",
                                                ::geteuid(), "; a key file must belong to the user that reads it"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        StrCat(path, ": permissions too open; a key file must be mode 0600 (chmod 600 ", path, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOwnerOnly(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ErrnoError("cannot stat", path);
  return CheckOwnerOnlyStat(st, path);
}

absl::Status CheckOwnerOnly(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("cannot stat", path);
  return CheckOwnerOnlyStat(st, path);
}

absl::StatusOr<int> OpenOwnerOnly(const std::string& path) {
  // O_NOFOLLOW: a symlink as the last component fails with ELOOP instead of
  // being followed. O_NONBLOCK: a FIFO planted there cannot block the open;
  // the check below refuses it (no effect on regular files).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          StrCat(path, ": is a symbolic link; a key file must be a regular file (give its real path)"));
    }
    return ErrnoError("cannot open", path);
  }
  if (absl::Status s = CheckOwnerOnly(fd, path); !s.ok()) {
    ::close(fd);
    return s;
  }
  return fd;
}

absl::StatusOr<FileLock> FileLock::TryAcquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot open the lock file", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::UnavailableError(StrCat(path, " is held by another process; try again when it is done"));
    }
    errno = err;
    return ErrnoError("cannot lock", path);
  }
  return FileLock(fd);
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace casenode
