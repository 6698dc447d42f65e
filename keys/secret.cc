#include "keys/secret.h"

#include <sodium.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/file.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::keys {

SecretBytes::SecretBytes(size_t size) : size_(size) {
  if (size == 0) return;
  data_ = static_cast<uint8_t*>(sodium_malloc(size));
  if (data_ == nullptr) std::abort();  // out of lockable memory: impossible to continue safely
  sodium_memzero(data_, size);
}

SecretBytes SecretBytes::Random(size_t size) {
  SecretBytes s(size);
  if (size > 0) randombytes_buf(s.data_, size);
  return s;
}

SecretBytes SecretBytes::CopyFrom(std::span<const uint8_t> bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes SecretBytes::CopyFrom(std::string_view bytes) {
  return CopyFrom(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes before freeing
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data_, size_) == 0;
}

namespace {

// Reads an open key or passphrase file (closing it) into locked memory.
absl::StatusOr<SecretBytes> ReadAndClose(const int fd, const std::string& path) {
  constexpr off_t kMaxSize = 64 * 1024;  // key and passphrase files are tiny
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size > kMaxSize) {
    ::close(fd);
    return absl::InvalidArgumentError(StrCat(path, ": too large for a key or passphrase file (at most 64 KiB)"));
  }
  SecretBytes out(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return absl::UnavailableError(StrCat(path, ": cannot read (or it shrank while being read)"));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

}  // namespace

absl::StatusOr<SecretBytes> ReadSecretFile(const std::string& path) {
  ASSIGN_OR_RETURN(const int fd, OpenOwnerOnly(path));
  return ReadAndClose(fd, path);
}

absl::StatusOr<SecretBytes> ReadCredentialFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(StrCat(path, ": cannot open the credential: ", std::strerror(errno)));
  }
  struct stat st {};
  constexpr uid_t kOverflowUid = 65534;  // root, as a service with PrivateUsers=yes sees it
  absl::Status bad;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    bad = absl::FailedPreconditionError(StrCat(path, ": not a regular file"));
  } else if (st.st_uid != ::geteuid() && st.st_uid != 0 && st.st_uid != kOverflowUid) {
    bad = absl::FailedPreconditionError(StrCat(path, ": owned by uid ", st.st_uid, "; a credential must belong to root "
                                                                                   "(systemd) or to this process's user"));
  } else if ((st.st_mode & 0227) != 0) {
    bad = absl::FailedPreconditionError(StrCat(path, ": writable, or readable by others; a credential is read-only"));
  }
  if (!bad.ok()) {
    ::close(fd);
    return bad;
  }
  return ReadAndClose(fd, path);
}

}  // namespace casenode::keys
