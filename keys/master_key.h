// MasterKey: the node's key-encryption key (KEK), and the sealed-file format
// that protects every private key a node keeps on disk.
//
// A master key comes from a key file (32 random bytes, base64, mode 0600) or
// from a passphrase stretched with Argon2id. The Argon2id salt and limits are
// stored in the header of the sealed file, so the passphrase is all an
// operator supplies. Key references are URIs:
//   file:/path/master.key             a key file
//   passphrase-file:/path/passphrase  a passphrase in a 0600 file
//   passphrase-env:NAME               a passphrase in environment variable NAME
//   passphrase-credential:NAME        a passphrase in systemd credential NAME
//                                     ($CREDENTIALS_DIRECTORY/NAME, LoadCredential=)
// A passphrase-env: variable is removed from the environment (and its value
// wiped) once read, so child processes do not inherit it and /proc/PID/environ
// does not show it. So it can be read once per process: a caller that needs
// the passphrase for several keys reads it once with ReadPassphrase and keeps
// the SecretBytes. setenv/unsetenv are not thread-safe: resolve keys before
// starting threads (casenode does, in Node::Create).
//
// Sealed file format (version 1), all integers big-endian:
//   "CNSEAL" (6 bytes) | version u8 = 1 | kdf u8 (1 key file, 2 Argon2id)
//   [kdf = 2: opslimit u32 (1..10) | memlimit_kib u32 (8..1048576) | salt 16 bytes]
//   nonce 24 bytes | XChaCha20-Poly1305-IETF ciphertext with tag
// Associated data: purpose || 0x00 || every header byte before the ciphertext,
// so a file sealed for one purpose (say "node-identity") cannot be opened as
// another, and no header byte can be changed unnoticed.
//
// MasterKey is immutable after creation and safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/encoding.h"
#include "keys/secret.h"

namespace casenode::keys {

enum class KdfKind : uint8_t { kUnspecified = 0, kKeyFile = 1, kArgon2id = 2 };

// The highest Argon2id limits a sealed file may ask for. The header is read
// (and the key derived) before anything is authenticated, so whoever can write
// a sealed file chooses what unlocking it costs: these bounds keep a crafted
// header from hanging or exhausting a node at start. libsodium's strongest
// preset (SENSITIVE) is 4 passes over 1 GiB; we allow more passes, which cost
// only time, but no more memory than that. casenode itself writes 3 passes
// over 256 MiB.
inline constexpr uint32_t kMaxArgon2idOpslimit = 10;
inline constexpr uint32_t kMaxArgon2idMemlimitKib = 1024 * 1024;  // 1 GiB

struct KdfParams {
  KdfKind kind = KdfKind::kUnspecified;
  uint32_t opslimit = 0;
  uint32_t memlimit_kib = 0;
  std::array<uint8_t, 16> salt{};

  // Argon2id with a fresh salt. Defaults are libsodium's MODERATE limits
  // (3 passes, 256 MiB): about a second, once per node start.
  static KdfParams NewArgon2id(uint32_t opslimit = 3, uint32_t memlimit_kib = 256 * 1024);
};

class MasterKey {
 public:
  static constexpr size_t kKeySize = 32;

  // Reads a key file; refuses one readable by others (FailedPrecondition).
  [[nodiscard]] static absl::StatusOr<MasterKey> FromKeyFile(const std::string& path);
  // Derives the key from a passphrase. InvalidArgument if `params` is not
  // Argon2id or its limits are below libsodium's minimum or above the maximums.
  [[nodiscard]] static absl::StatusOr<MasterKey> FromPassphrase(const SecretBytes& passphrase, const KdfParams& params);
  // Creates a new key file with 32 random bytes, mode 0600. Fails if it exists.
  [[nodiscard]] static absl::Status CreateKeyFile(const std::string& path);

  // Resolves a key URI (see above) for opening `sealed_file_bytes`, whose header
  // says how its key was derived. Errors name the URI scheme, never the secret.
  [[nodiscard]] static absl::StatusOr<MasterKey> Unlock(std::string_view uri, std::span<const uint8_t> sealed_file_bytes);
  // Resolves a key URI for sealing new files (a fresh Argon2id salt if a passphrase).
  [[nodiscard]] static absl::StatusOr<MasterKey> ForNewFiles(std::string_view uri);
  // The passphrase a passphrase-env: or passphrase-file: URI names, for a
  // caller that derives several keys from one passphrase (see above: an
  // environment variable is gone once read).
  [[nodiscard]] static absl::StatusOr<SecretBytes> ReadPassphrase(std::string_view uri);

  // Seals `plaintext` for `purpose` into the sealed-file format.
  [[nodiscard]] Bytes Seal(std::string_view purpose, std::span<const uint8_t> plaintext) const;
  // Opens a sealed file. InvalidArgument for a malformed or foreign file (or
  // Argon2id limits above the maximums, naming the header field),
  // FailedPrecondition for a newer format, PermissionDenied for a wrong key
  // (or a tampered file: the two cannot be told apart, by design).
  [[nodiscard]] absl::StatusOr<SecretBytes> Open(std::string_view purpose, std::span<const uint8_t> sealed) const;

  const KdfParams& params() const { return params_; }

 private:
  MasterKey(SecretBytes key, KdfParams params) : key_(std::move(key)), params_(params) {}
  SecretBytes key_;
  KdfParams params_;
};

// Reads the KDF parameters from a sealed file's header. InvalidArgument for
// Argon2id limits out of bounds, naming the header field.
[[nodiscard]] absl::StatusOr<KdfParams> ReadSealedHeader(std::span<const uint8_t> sealed);

}  // namespace casenode::keys
