#include "keys/identity.h"

#include <cstdlib>

#include <sodium.h>

#include <cstring>

namespace casenode::keys {
namespace {

Bytes DomainSeparated(std::string_view context, std::span<const uint8_t> message) {
  constexpr std::string_view kPrefix = "casenode/";
  Bytes m;
  m.reserve(kPrefix.size() + context.size() + 1 + message.size());
  m.insert(m.end(), kPrefix.begin(), kPrefix.end());
  m.insert(m.end(), context.begin(), context.end());
  m.push_back(0);
  m.insert(m.end(), message.begin(), message.end());
  return m;
}

constexpr uint8_t kIdentityVersion = 1;

}  // namespace

SigningKey SigningKey::Generate() {
  SecretBytes seed = SecretBytes::Random(crypto_sign_SEEDBYTES);
  return *FromSeed(seed.span());
}

absl::StatusOr<SigningKey> SigningKey::FromSeed(std::span<const uint8_t> seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  PublicKey pk{};
  crypto_sign_seed_keypair(pk.data(), secret.data(), seed.data());
  return SigningKey(SecretBytes::CopyFrom(seed), std::move(secret), pk);
}

Signature SigningKey::Sign(std::string_view context, std::span<const uint8_t> message) const {
  const Bytes m = DomainSeparated(context, message);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), secret_.data());
  return sig;
}

Signature SigningKey::SignNote(std::string_view text) const {
  if (text.starts_with("casenode/")) std::abort();  // a programming error: see the header
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                       secret_.data());
  return sig;
}

bool VerifySignature(const PublicKey& key, std::string_view context, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature) {
  if (signature.size() != crypto_sign_BYTES) return false;
  const Bytes m = DomainSeparated(context, message);
  return crypto_sign_verify_detached(signature.data(), m.data(), m.size(), key.data()) == 0;
}

NodeIdentity NodeIdentity::Generate(SecretBytes tls_key_pem) {
  SecretBytes enc = SecretBytes::Random(crypto_box_SECRETKEYBYTES);
  PublicKey enc_pk{};
  crypto_scalarmult_base(enc_pk.data(), enc.data());
  return NodeIdentity{SigningKey::Generate(), std::move(enc), enc_pk, std::move(tls_key_pem)};
}

SecretBytes NodeIdentity::Serialize() const {
  SecretBytes out(1 + 32 + 32 + tls_key_pem.size());
  out.data()[0] = kIdentityVersion;
  std::memcpy(out.data() + 1, signing.seed().data(), 32);
  std::memcpy(out.data() + 33, encryption_secret.data(), 32);
  if (!tls_key_pem.empty()) std::memcpy(out.data() + 65, tls_key_pem.data(), tls_key_pem.size());
  return out;
}

absl::StatusOr<NodeIdentity> NodeIdentity::Parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < 65 || bytes[0] != kIdentityVersion) {
    return absl::InvalidArgumentError("node identity: unknown format version or truncated");
  }
  auto signing = SigningKey::FromSeed(bytes.subspan(1, 32));
  if (!signing.ok()) return signing.status();
  SecretBytes enc = SecretBytes::CopyFrom(bytes.subspan(33, 32));
  PublicKey enc_pk{};
  crypto_scalarmult_base(enc_pk.data(), enc.data());
  return NodeIdentity{*std::move(signing), std::move(enc), enc_pk, SecretBytes::CopyFrom(bytes.subspan(65))};
}

}  // namespace casenode::keys
