#include "keys/oprf/threshold.h"

#include <sodium.h>

#include <algorithm>
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
using Scalar = std::array<uint8_t, kScalarBytes>;

// "holder 3" or "holders 2, 5".
std::string NameHolders(const std::vector<HolderIndex>& holders) {
  std::string s = holders.size() == 1 ? "holder " : "holders ";
  for (size_t i = 0; i < holders.size(); ++i) s += StrCat(i == 0 ? "" : ", ", holders[i]);
  return s;
}

// f(x) for f = coefficients[0] + coefficients[1] x + ..., by Horner's rule,
// into `out` (secret memory).
void EvaluatePolynomial(const std::vector<const SecretScalar*>& coefficients, HolderIndex x, uint8_t* out) {
  const Scalar xs = internal::ScalarFromInt(x);
  std::memcpy(out, coefficients.back()->data(), kScalarBytes);
  Wiped<kScalarBytes> product;
  for (size_t j = coefficients.size() - 1; j-- > 0;) {
    crypto_core_ristretto255_scalar_mul(product.data(), out, xs.data());
    crypto_core_ristretto255_scalar_add(out, product.data(), coefficients[j]->data());
  }
}

}  // namespace

absl::StatusOr<Dealing> Deal(uint32_t t, uint32_t n) { return DealKey(PrivateKey::Generate(), t, n); }

absl::StatusOr<Dealing> DealKey(PrivateKey key, uint32_t t, uint32_t n) {
  const PrivateKey dealer = std::move(key);  // wiped when this function returns
  if (t < 1 || t > n || n > kMaxHolders) {
    return absl::InvalidArgumentError("deal: need 1 <= threshold <= holders <= 255");
  }
  // A share of zero would be no key at all (probability about n * 2^-252):
  // deal again with a new polynomial.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<SecretScalar> random;  // a_1 .. a_{t-1}
    random.reserve(t - 1);
    std::vector<const SecretScalar*> coefficients = {&dealer.scalar()};
    for (uint32_t j = 1; j < t; ++j) coefficients.push_back(&random.emplace_back(SecretScalar::Random()));

    Dealing dealing;
    dealing.public_shares.threshold = t;
    dealing.public_shares.public_key = dealer.public_key();
    bool zero_share = false;
    for (HolderIndex i = 1; i <= n && !zero_share; ++i) {
      SecretScalar share = SecretScalar::Zero();
      EvaluatePolynomial(coefficients, i, share.data());
      absl::StatusOr<PrivateKey> share_key = PrivateKey::FromScalar(std::move(share));
      if (!share_key.ok()) {
        zero_share = true;
        break;
      }
      dealing.public_shares.commitments.push_back(share_key->public_key());
      dealing.shares.push_back(KeyShare{i, *std::move(share_key)});
    }
    if (!zero_share) return dealing;
  }
  return absl::InternalError("deal: could not draw a polynomial without a zero share");
}

absl::StatusOr<std::vector<Scalar>> LagrangeCoefficients(std::span<const HolderIndex> holders) {
  if (holders.empty()) return absl::InvalidArgumentError("Lagrange coefficients: no holders");
  for (size_t i = 0; i < holders.size(); ++i) {
    if (holders[i] < 1 || holders[i] > kMaxHolders) {
      return absl::InvalidArgumentError(StrCat("holder ", holders[i], ": index must be 1 to 255"));
    }
    if (std::find(holders.begin(), holders.begin() + static_cast<std::ptrdiff_t>(i), holders[i]) !=
        holders.begin() + static_cast<std::ptrdiff_t>(i)) {
      return absl::InvalidArgumentError(StrCat("holder ", holders[i], ": listed more than once"));
    }
  }
  std::vector<Scalar> lambdas(holders.size());
  for (size_t i = 0; i < holders.size(); ++i) {
    const Scalar xi = internal::ScalarFromInt(holders[i]);
    Scalar num = internal::ScalarFromInt(1), den = internal::ScalarFromInt(1), tmp;
    for (size_t j = 0; j < holders.size(); ++j) {
      if (j == i) continue;
      const Scalar xj = internal::ScalarFromInt(holders[j]);
      crypto_core_ristretto255_scalar_mul(tmp.data(), num.data(), xj.data());
      num = tmp;
      Scalar diff;
      crypto_core_ristretto255_scalar_sub(diff.data(), xj.data(), xi.data());
      crypto_core_ristretto255_scalar_mul(tmp.data(), den.data(), diff.data());
      den = tmp;
    }
    Scalar inverse;
    if (crypto_core_ristretto255_scalar_invert(inverse.data(), den.data()) != 0) std::abort();  // distinct: non-zero
    crypto_core_ristretto255_scalar_mul(lambdas[i].data(), num.data(), inverse.data());
  }
  return lambdas;
}

absl::StatusOr<ShareEvaluation> EvaluateShare(const KeyShare& share, const Element& blinded) {
  ASSIGN_OR_RETURN(Evaluation evaluation, BlindEvaluateWithProof(share.key, std::span<const Element>(&blinded, 1)));
  return ShareEvaluation{share.index, evaluation.elements[0], evaluation.proof};
}

absl::StatusOr<HolderSet> HolderSet::New(const PublicShares& public_shares, std::span<const HolderIndex> holders) {
  const size_t n = public_shares.commitments.size();
  const uint32_t t = public_shares.threshold;
  if (t < 1 || t > n || n > kMaxHolders) {
    return absl::InvalidArgumentError("public shares: need 1 <= threshold <= holders <= 255");
  }
  for (HolderIndex h : holders) {
    if (h < 1 || h > n) return absl::InvalidArgumentError(StrCat("holder ", h, ": not in the dealing (1 to ", n, ")"));
  }
  if (holders.size() < t) {
    return Error(Reason::kOprfTooFewShares, StrCat(holders.size(), " holders given, ", t, " needed"));
  }
  RETURN_IF_ERROR(internal::CheckElement(public_shares.public_key, "public shares: public key"));
  HolderSet set;
  set.threshold_ = t;
  set.holders_.assign(holders.begin(), holders.end());
  ASSIGN_OR_RETURN(set.lambdas_, LagrangeCoefficients(holders));
  // The combined evaluation is k * blinded exactly when every share is right
  // and the commitments interpolate to K: check the latter once, here.
  Element sum{};
  for (size_t j = 0; j < holders.size(); ++j) {
    const Element& commitment = public_shares.commitments[holders[j] - 1];
    RETURN_IF_ERROR(internal::CheckElement(commitment, StrCat("public shares: commitment of holder ", holders[j])));
    set.commitments_.push_back(commitment);
    Element term;
    internal::Mul(term, set.lambdas_[j].data(), commitment);
    internal::Add(sum, sum, term);
  }
  if (sodium_memcmp(sum.data(), public_shares.public_key.data(), kElementBytes) != 0) {
    return Error(Reason::kOprfSharesInconsistent,
                 StrCat("public shares: the commitments of ", NameHolders(set.holders_),
                        " do not interpolate to the public key"));
  }
  return set;
}

absl::Status VerifyShare(const Element& commitment, const Element& blinded, const ShareEvaluation& share) {
  const std::span<const Element> c(&blinded, 1);
  const std::span<const Element> d(&share.element, 1);
  if (!internal::CheckElement(share.element, "share").ok() ||
      !internal::VerifyProof(Mode::kVoprf, commitment, c, d, share.proof).ok()) {
    return Error(Reason::kOprfProofFailed,
                 StrCat(NameHolders({share.holder}), ": share failed verification against the holder's commitment"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Output> HolderSet::CombineAndFinalize(std::span<const uint8_t> input, const Blinded& blinded,
                                                     std::span<const ShareEvaluation> shares, Proofs proofs) const {
  if (blinded.mode() != Mode::kVoprf) {
    return absl::InvalidArgumentError("combine: the blind was made for OPRF mode; holders answer in VOPRF mode");
  }
  if (input.size() > kMaxInputBytes) return Error(Reason::kOprfInvalidInput, "input: at most 65535 bytes");
  // Each share at its holder's place in the set.
  std::vector<const ShareEvaluation*> at(holders_.size(), nullptr);
  for (const ShareEvaluation& share : shares) {
    const auto it = std::find(holders_.begin(), holders_.end(), share.holder);
    if (it == holders_.end()) {
      return absl::InvalidArgumentError(StrCat("holder ", share.holder, ": not in this holder set"));
    }
    const size_t j = static_cast<size_t>(it - holders_.begin());
    if (at[j] != nullptr) return absl::InvalidArgumentError(StrCat("holder ", share.holder, ": more than one share"));
    at[j] = &share;
  }
  std::vector<HolderIndex> failed, missing;
  const std::span<const Element> c(&blinded.element(), 1);
  for (size_t j = 0; j < holders_.size(); ++j) {
    if (at[j] == nullptr) {
      missing.push_back(holders_[j]);
      continue;
    }
    const std::span<const Element> d(&at[j]->element, 1);
    if (!internal::CheckElement(at[j]->element, "share").ok() ||
        (proofs == Proofs::kVerify && !internal::VerifyProof(Mode::kVoprf, commitments_[j], c, d, at[j]->proof).ok())) {
      failed.push_back(holders_[j]);
    }
  }
  const size_t valid = holders_.size() - failed.size() - missing.size();
  if (!failed.empty()) {
    return Error(Reason::kOprfProofFailed,
                 StrCat(NameHolders(failed), ": share failed verification against the holder's commitment; ", valid,
                        " of ", holders_.size(), " needed shares valid"));
  }
  if (!missing.empty()) {
    return Error(Reason::kOprfTooFewShares,
                 StrCat(NameHolders(missing), ": no share; ", valid, " of ", holders_.size(), " needed shares given"));
  }
  // N = sum (lambda_j * blind^-1) * Z_j: unblinding folded into the coefficients.
  Wiped<kScalarBytes> inverse, coefficient;
  if (crypto_core_ristretto255_scalar_invert(inverse.data(), blinded.blind().data()) != 0) std::abort();
  // The sum and its terms are k*HashToGroup(input) and parts of it: wiped.
  Wiped<kElementBytes> unblinded, term;
  for (size_t j = 0; j < holders_.size(); ++j) {
    crypto_core_ristretto255_scalar_mul(coefficient.data(), lambdas_[j].data(), inverse.data());
    internal::Mul(term.b, coefficient.data(), at[j]->element);
    internal::Add(unblinded.b, unblinded.b, term.b);
  }
  if (internal::IsIdentity(unblinded.b)) return absl::InternalError("combine: the shares combine to the identity");
  return internal::FinalizeHash(input, unblinded.b);
}

}  // namespace casenode::oprf
