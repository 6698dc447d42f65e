// Node and operator identities: Ed25519 signing keys, X25519 encryption keys
// and the TLS private key, as they live in memory and (sealed) on disk.
//
// Signatures are domain-separated: what is signed is
//   "casenode/" || context || 0x00 || message
// so a signature made for one purpose (say "manifest/v1") never verifies for
// another. Immutable after creation; safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/encoding.h"
#include "keys/secret.h"

namespace casenode::keys {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

class SigningKey {
 public:
  static SigningKey Generate();
  // InvalidArgument unless `seed` is 32 bytes.
  [[nodiscard]] static absl::StatusOr<SigningKey> FromSeed(std::span<const uint8_t> seed);

  const PublicKey& public_key() const { return public_key_; }
  const SecretBytes& seed() const { return seed_; }
  [[nodiscard]] Signature Sign(std::string_view context, std::span<const uint8_t> message) const;
  // A plain Ed25519 signature over a C2SP signed note's text (a log
  // checkpoint, a witness cosignature message), which the note formats
  // separate by key name and type. Refuses (aborts on) text that starts with
  // "casenode/", the prefix of every domain-separated Sign(): no note can
  // stand in for another signature of this key.
  [[nodiscard]] Signature SignNote(std::string_view text) const;

 private:
  SigningKey(SecretBytes seed, SecretBytes secret, PublicKey pk)
      : seed_(std::move(seed)), secret_(std::move(secret)), public_key_(pk) {}
  SecretBytes seed_;
  SecretBytes secret_;  // libsodium's 64-byte expanded secret key
  PublicKey public_key_;
};

[[nodiscard]] bool VerifySignature(const PublicKey& key, std::string_view context, std::span<const uint8_t> message,
                                   std::span<const uint8_t> signature);

// Everything secret a node holds about itself.
//
// Serialised form (inside a sealed file with purpose "node-identity"):
//   version u8 = 1 | Ed25519 seed (32) | X25519 secret key (32) | TLS key PEM
struct NodeIdentity {
  SigningKey signing;
  SecretBytes encryption_secret;  // X25519
  PublicKey encryption_public{};
  SecretBytes tls_key_pem;

  static NodeIdentity Generate(SecretBytes tls_key_pem);
  SecretBytes Serialize() const;
  [[nodiscard]] static absl::StatusOr<NodeIdentity> Parse(std::span<const uint8_t> bytes);
};

inline constexpr std::string_view kNodeIdentityPurpose = "node-identity";
inline constexpr std::string_view kOperatorKeyPurpose = "operator-signing-key";
inline constexpr std::string_view kCaKeyPurpose = "network-ca-key";

}  // namespace casenode::keys
