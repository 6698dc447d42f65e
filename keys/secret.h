// SecretBytes: key material in guarded, locked memory.
//
// Allocated with sodium_malloc (guard pages, mlock), wiped and freed on
// destruction, compared in constant time. Move-only, no operator<<, no
// conversion to std::string: secrets never reach a log or an error message by
// accident. Not thread-safe for concurrent mutation; concurrent reads are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace casenode::keys {

class SecretBytes {
 public:
  SecretBytes() = default;
  // `size` zero bytes. Aborts if memory cannot be locked and allocated.
  explicit SecretBytes(size_t size);
  static SecretBytes Random(size_t size);
  static SecretBytes CopyFrom(std::span<const uint8_t> bytes);
  static SecretBytes CopyFrom(std::string_view bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  // WARNING: a view of the secret as text (for PEM keys handed to TLS). Do not
  // copy it into a long-lived std::string.
  std::string_view InsecureView() const { return {reinterpret_cast<const char*>(data_), size_}; }

  // Constant-time equality.
  bool Equals(const SecretBytes& other) const;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Reads a key or passphrase file straight into locked memory, through
// OpenOwnerOnly (base/file.h): a regular file, not a symlink, owned by this
// process's user, mode 0600 or 0400, checked on the descriptor that is read.
// FailedPrecondition for a file that fails those checks, InvalidArgument for
// one larger than 64 KiB. Errors name the path, never the content.
[[nodiscard]] absl::StatusOr<SecretBytes> ReadSecretFile(const std::string& path);
// The same for a systemd credential ($CREDENTIALS_DIRECTORY/NAME): systemd
// writes it root-owned, mode 0400, readable by the service through an ACL
// (so it may show group read, and, under PrivateUsers=, the overflow uid).
// A regular file, not a symlink, owned by root or this user, with no write
// bit and nothing for others.
[[nodiscard]] absl::StatusOr<SecretBytes> ReadCredentialFile(const std::string& path);

}  // namespace casenode::keys
