#include "keys/oprf/oprf.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/oprf/internal/dleq.h"
#include "keys/oprf/internal/suite.h"

namespace casenode::oprf {
namespace {

using internal::Wiped;

absl::Status CheckInput(std::span<const uint8_t> input) {
  if (input.size() > kMaxInputBytes) {
    return Error(Reason::kOprfInvalidInput, "input: at most 65535 bytes");
  }
  return absl::OkStatus();
}

// blindedElement = blind * HashToGroup(input).
absl::StatusOr<Element> BlindElement(Mode mode, std::span<const uint8_t> input, const SecretScalar& blind) {
  RETURN_IF_ERROR(CheckInput(input));
  // HashToGroup(input) is as telling as the input (the BSNs can be
  // enumerated), so it is wiped once blinded.
  Element input_element = internal::HashToGroup(input, internal::DstsFor(mode).hash_to_group);
  if (internal::IsIdentity(input_element)) {
    return Error(Reason::kOprfInvalidInput, "input: hashes to the identity element");
  }
  Element blinded;
  internal::Mul(blinded, blind.data(), input_element);
  sodium_memzero(input_element.data(), input_element.size());
  return blinded;
}

// Finalize's unblind and hash, for an evaluated element already checked. The
// unblinded element k*HashToGroup(input) is wiped after hashing.
Output UnblindAndHash(std::span<const uint8_t> input, const SecretScalar& blind, const Element& evaluated) {
  Wiped<32> inverse;
  if (crypto_core_ristretto255_scalar_invert(inverse.data(), blind.data()) != 0) std::abort();  // blinds are non-zero
  Wiped<kElementBytes> unblinded;
  internal::Mul(unblinded.b, inverse.data(), evaluated);
  return internal::FinalizeHash(input, unblinded.b);
}

absl::Status CheckBatch(std::span<const Element> blinded, std::string_view what) {
  if (blinded.empty() || blinded.size() > kMaxBatch) {
    return absl::InvalidArgumentError(StrCat(what, ": batch must hold 1 to 65535 elements"));
  }
  for (size_t i = 0; i < blinded.size(); ++i) {
    RETURN_IF_ERROR(internal::CheckElement(blinded[i], StrCat(what, " ", i)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Evaluation> EvaluateWithProof(const PrivateKey& key, std::span<const Element> blinded,
                                             const uint8_t* r) {
  Evaluation out;
  out.elements.resize(blinded.size());
  for (size_t i = 0; i < blinded.size(); ++i) {
    // libsodium refuses a non-canonical encoding and reports an identity
    // result, which for a non-zero key means an identity input: both are
    // DeserializeError, so one scalar multiplication also checks the input.
    // libsodium 1.0.18 ignores the encoding's top bit, so that is tested first.
    if (internal::IsIdentity(blinded[i]) || (blinded[i][31] & 0x80) != 0 ||
        crypto_scalarmult_ristretto255(out.elements[i].data(), key.scalar().data(), blinded[i].data()) != 0) {
      absl::Status bad = internal::CheckElement(blinded[i], StrCat("blinded element ", i));
      return bad.ok() ? absl::InternalError("BlindEvaluate: scalar multiplication failed") : bad;
    }
  }
  out.proof = internal::GenerateProof(Mode::kVoprf, key.scalar().data(), key.public_key(), blinded, out.elements, r);
  return out;
}

}  // namespace

std::string ContextString(Mode mode) { return internal::DstsFor(mode).context; }

bool IsValidElement(const Element& e) { return !internal::IsIdentity(e) && internal::IsCanonicalEncoding(e); }

PrivateKey::PrivateKey(SecretScalar scalar, const Element& public_key)
    : scalar_(std::move(scalar)), public_key_(public_key) {}

PrivateKey PrivateKey::Generate() {
  SecretScalar s = SecretScalar::Random();
  Element pk;
  internal::MulBase(pk, s.data());
  return PrivateKey(std::move(s), pk);
}

absl::StatusOr<PrivateKey> PrivateKey::Derive(Mode mode, std::span<const uint8_t> seed, std::span<const uint8_t> info) {
  if (seed.size() != kScalarBytes) return absl::InvalidArgumentError("DeriveKeyPair: seed must be 32 bytes");
  if (info.size() > 65535) return absl::InvalidArgumentError("DeriveKeyPair: info must be at most 65535 bytes");
  // deriveInput = seed || I2OSP(len(info), 2) || info; then
  // skS = HashToScalar(deriveInput || I2OSP(counter, 1), DST = "DeriveKeyPair" || contextString)
  // for counter = 0, 1, ... until skS is non-zero.
  std::vector<uint8_t> derive_input;
  derive_input.reserve(seed.size() + 2 + info.size() + 1);
  derive_input.insert(derive_input.end(), seed.begin(), seed.end());
  derive_input.push_back(static_cast<uint8_t>(info.size() >> 8));
  derive_input.push_back(static_cast<uint8_t>(info.size() & 0xff));
  derive_input.insert(derive_input.end(), info.begin(), info.end());
  derive_input.push_back(0);
  SecretScalar s = SecretScalar::Zero();
  for (unsigned counter = 0; counter <= 255 && s.IsZero(); ++counter) {
    derive_input.back() = static_cast<uint8_t>(counter);
    internal::HashToScalar(derive_input, internal::DstsFor(mode).derive_key_pair,
                           std::span<uint8_t, 32>(s.data(), kScalarBytes));
  }
  sodium_memzero(derive_input.data(), derive_input.size());  // it holds the seed
  if (s.IsZero()) return absl::InternalError("DeriveKeyPair: no counter gave a non-zero key");
  return FromScalar(std::move(s));
}

absl::StatusOr<PrivateKey> PrivateKey::FromScalar(SecretScalar scalar) {
  if (scalar.IsZero()) return Error(Reason::kOprfInvalidEncoding, "private key: must not be zero");
  Element pk;
  internal::MulBase(pk, scalar.data());
  return PrivateKey(std::move(scalar), pk);
}

Blinded::Blinded(Mode mode, SecretScalar blind, const Element& element)
    : mode_(mode), blind_(std::move(blind)), element_(element) {}

absl::StatusOr<Blinded> Blind(Mode mode, std::span<const uint8_t> input) {
  SecretScalar blind = SecretScalar::Random();
  ASSIGN_OR_RETURN(const Element element, BlindElement(mode, input, blind));
  return Blinded(mode, std::move(blind), element);
}

absl::StatusOr<Blinded> InsecureBlindForTesting(Mode mode, std::span<const uint8_t> input,
                                                std::span<const uint8_t> blind) {
  ASSIGN_OR_RETURN(SecretScalar b, SecretScalar::FromCanonicalBytes(blind));
  if (b.IsZero()) return Error(Reason::kOprfInvalidEncoding, "blind: must not be zero");
  ASSIGN_OR_RETURN(const Element element, BlindElement(mode, input, b));
  return Blinded(mode, std::move(b), element);
}

absl::StatusOr<Element> BlindEvaluate(const PrivateKey& key, const Element& blinded) {
  RETURN_IF_ERROR(internal::CheckElement(blinded, "blinded element"));
  Element evaluated;
  internal::Mul(evaluated, key.scalar().data(), blinded);
  return evaluated;
}

absl::StatusOr<Evaluation> BlindEvaluateWithProof(const PrivateKey& key, std::span<const Element> blinded) {
  if (blinded.empty() || blinded.size() > kMaxBatch) {
    return absl::InvalidArgumentError("blinded elements: batch must hold 1 to 65535 elements");
  }
  Wiped<32> r;
  crypto_core_ristretto255_scalar_random(r.data());
  return EvaluateWithProof(key, blinded, r.data());
}

absl::StatusOr<Evaluation> InsecureBlindEvaluateWithProofForTesting(const PrivateKey& key,
                                                                    std::span<const Element> blinded,
                                                                    std::span<const uint8_t> proof_random_scalar) {
  if (blinded.empty() || blinded.size() > kMaxBatch) {
    return absl::InvalidArgumentError("blinded elements: batch must hold 1 to 65535 elements");
  }
  ASSIGN_OR_RETURN(const SecretScalar r, SecretScalar::FromCanonicalBytes(proof_random_scalar));
  if (r.IsZero()) return Error(Reason::kOprfInvalidEncoding, "proof random scalar: must not be zero");
  return EvaluateWithProof(key, blinded, r.data());
}

absl::StatusOr<Output> Finalize(std::span<const uint8_t> input, const Blinded& blinded, const Element& evaluated) {
  if (blinded.mode() != Mode::kOprf) {
    return absl::InvalidArgumentError("Finalize: the blind was made for VOPRF mode; use VerifiableFinalize");
  }
  RETURN_IF_ERROR(CheckInput(input));
  RETURN_IF_ERROR(internal::CheckElement(evaluated, "evaluated element"));
  return UnblindAndHash(input, blinded.blind(), evaluated);
}

absl::StatusOr<std::vector<Output>> VerifiableFinalize(const Element& public_key,
                                                       std::span<const std::span<const uint8_t>> inputs,
                                                       std::span<const Blinded> blinds, const Evaluation& evaluation) {
  if (inputs.size() != blinds.size() || inputs.size() != evaluation.elements.size()) {
    return absl::InvalidArgumentError("VerifiableFinalize: inputs, blinds and evaluated elements differ in number");
  }
  RETURN_IF_ERROR(internal::CheckElement(public_key, "public key"));
  RETURN_IF_ERROR(CheckBatch(evaluation.elements, "evaluated element"));
  std::vector<Element> blinded(blinds.size());
  for (size_t i = 0; i < blinds.size(); ++i) {
    if (blinds[i].mode() != Mode::kVoprf) {
      return absl::InvalidArgumentError("VerifiableFinalize: a blind was made for OPRF mode");
    }
    RETURN_IF_ERROR(CheckInput(inputs[i]));
    blinded[i] = blinds[i].element();
  }
  RETURN_IF_ERROR(internal::VerifyProof(Mode::kVoprf, public_key, blinded, evaluation.elements, evaluation.proof));
  std::vector<Output> outputs(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    outputs[i] = UnblindAndHash(inputs[i], blinds[i].blind(), evaluation.elements[i]);
  }
  return outputs;
}

absl::StatusOr<Output> VerifiableFinalize(const Element& public_key, std::span<const uint8_t> input,
                                          const Blinded& blinded, const Element& evaluated, const Proof& proof) {
  Evaluation evaluation{{evaluated}, proof};
  const std::span<const uint8_t> inputs[1] = {input};
  ASSIGN_OR_RETURN(std::vector<Output> outputs,
                   VerifiableFinalize(public_key, inputs, std::span<const Blinded>(&blinded, 1), evaluation));
  return outputs[0];
}

}  // namespace casenode::oprf
