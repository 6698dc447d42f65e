#include "keys/oprf_share.h"

#include <sodium.h>

#include <algorithm>

#include "base/canonical.h"
#include "base/reason.h"
#include "base/strings.h"

namespace casenode::keys {
namespace {

constexpr std::string_view kDomain = "casenode-oprf-share/v1";

std::string Header(std::string_view network, uint64_t index) {
  return CanonicalWriter(kDomain).String(network).U64(index).bytes();
}

absl::Status InvalidShare(std::string_view why) {
  return Error(Reason::kOprfShareInvalid, StrCat("pseudonym key share: ", why));
}

}  // namespace

std::string SealOprfShare(const oprf::KeyShare& share, std::string_view network, const PublicKey& holder_key) {
  const std::string header = Header(network, share.index);
  SecretBytes plain(header.size() + oprf::kScalarBytes);
  std::copy(header.begin(), header.end(), plain.data());
  const auto scalar = share.key.scalar().CleartextBytes();
  std::copy(scalar.begin(), scalar.end(), plain.data() + header.size());
  std::string sealed(plain.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(reinterpret_cast<uint8_t*>(sealed.data()), plain.data(), plain.size(), holder_key.data());
  return sealed;
}

absl::StatusOr<oprf::KeyShare> OpenOprfShare(std::span<const uint8_t> sealed, const NodeIdentity& identity,
                                             const OprfHolderClaim& claim) {
  const std::string header = Header(claim.network, claim.index);
  if (sealed.size() != crypto_box_SEALBYTES + header.size() + oprf::kScalarBytes) {
    return InvalidShare("not a share for this network and index (wrong size)");
  }
  SecretBytes plain(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(plain.data(), sealed.data(), sealed.size(), identity.encryption_public.data(),
                           identity.encryption_secret.data()) != 0) {
    return InvalidShare("cannot be opened with this node's identity (sealed to another node?)");
  }
  if (sodium_memcmp(plain.data(), header.data(), header.size()) != 0) {
    return InvalidShare("not a share for this network and index");
  }
  auto scalar = oprf::SecretScalar::FromCanonicalBytes(plain.span().subspan(header.size()));
  if (!scalar.ok()) return InvalidShare("the share is not a valid scalar");
  auto key = oprf::PrivateKey::FromScalar(*std::move(scalar));
  if (!key.ok()) return InvalidShare("the share is zero");
  if (!std::equal(key->public_key().begin(), key->public_key().end(), claim.commitment.begin())) {
    return InvalidShare("it does not match this holder's commitment in the manifest");
  }
  return oprf::KeyShare{claim.index, *std::move(key)};
}

}  // namespace casenode::keys
