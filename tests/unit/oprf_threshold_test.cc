// Threshold OPRF: t of n key holders evaluate shares that combine to the
// single-key output; a share that fails its proof is named, and fewer than t
// valid shares never give an output.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/reason.h"
#include "keys/oprf/threshold.h"

using namespace casenode;
using namespace casenode::oprf;

namespace {

const Bytes kSeed(32, 0x42);
const std::string kInfo = "casenode threshold test";
const std::string kInput = "123456782";

PrivateKey DealerKey() {
  auto key = PrivateKey::Derive(Mode::kVoprf, kSeed, AsBytes(kInfo));
  REQUIRE(key.ok());
  return *std::move(key);
}

// The single-key VOPRF output under the dealer's key.
Output SingleKeyOutput() {
  const PrivateKey key = DealerKey();
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  auto evaluation = BlindEvaluateWithProof(key, std::span(&blinded->element(), 1));
  REQUIRE(evaluation.ok());
  auto output =
      VerifiableFinalize(key.public_key(), AsBytes(kInput), *blinded, evaluation->elements[0], evaluation->proof);
  REQUIRE(output.ok());
  return *output;
}

Dealing DealDealerKey(uint32_t t, uint32_t n) {
  auto dealing = DealKey(DealerKey(), t, n);
  REQUIRE(dealing.ok());
  return *std::move(dealing);
}

// Every subset of size t of {1..n}, in increasing order.
std::vector<std::vector<HolderIndex>> Subsets(uint32_t t, uint32_t n) {
  std::vector<std::vector<HolderIndex>> out;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<uint32_t>(__builtin_popcount(mask)) != t) continue;
    std::vector<HolderIndex> s;
    for (uint32_t i = 0; i < n; ++i) {
      if (mask & (1u << i)) s.push_back(i + 1);
    }
    out.push_back(s);
  }
  return out;
}

std::vector<ShareEvaluation> Evaluate(const Dealing& dealing, const std::vector<HolderIndex>& holders,
                                      const Blinded& blinded) {
  std::vector<ShareEvaluation> shares;
  for (HolderIndex h : holders) {
    auto share = EvaluateShare(dealing.shares[h - 1], blinded.element());
    REQUIRE(share.ok());
    shares.push_back(*share);
  }
  return shares;
}

}  // namespace

TEST_CASE("every t-subset of holders combines to the dealer key's output", "[oprf][threshold]") {
  const Output expected = SingleKeyOutput();
  for (const auto& [t, n] : {std::pair<uint32_t, uint32_t>{2, 3}, std::pair<uint32_t, uint32_t>{3, 5}}) {
    const Dealing dealing = DealDealerKey(t, n);
    REQUIRE(dealing.public_shares.public_key == DealerKey().public_key());
    REQUIRE(dealing.public_shares.commitments.size() == n);
    const auto subsets = Subsets(t, n);
    REQUIRE(subsets.size() == (t == 2 ? 3u : 10u));
    for (const auto& holders : subsets) {
      auto set = HolderSet::New(dealing.public_shares, holders);
      REQUIRE(set.ok());
      auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));  // a fresh blind each time
      REQUIRE(blinded.ok());
      std::vector<ShareEvaluation> shares = Evaluate(dealing, holders, *blinded);
      std::reverse(shares.begin(), shares.end());  // the order of the answers does not matter
      auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares);
      REQUIRE(output.ok());
      REQUIRE(*output == expected);
    }
  }
}

TEST_CASE("more than t holders combine to the same output", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(3, 5);
  const std::vector<HolderIndex> all = {1, 2, 3, 4, 5};
  auto set = HolderSet::New(dealing.public_shares, all);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, Evaluate(dealing, all, *blinded));
  REQUIRE(output.ok());
  REQUIRE(*output == SingleKeyOutput());
}

TEST_CASE("fewer than t holders or shares is an error, never an output", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(3, 5);
  const std::vector<HolderIndex> two = {2, 4};
  auto small = HolderSet::New(dealing.public_shares, two);
  REQUIRE(small.status().code() == absl::StatusCode::kUnavailable);
  REQUIRE(ReasonOf(small.status()) == Reason::kOprfTooFewShares);
  REQUIRE(small.status().message() == "2 holders given, 3 needed");

  const std::vector<HolderIndex> three = {2, 4, 5};
  auto set = HolderSet::New(dealing.public_shares, three);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  const std::vector<ShareEvaluation> shares = Evaluate(dealing, two, *blinded);
  auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares);
  REQUIRE(ReasonOf(output.status()) == Reason::kOprfTooFewShares);
  REQUIRE(output.status().message() == "holder 5: no share; 2 of 3 needed shares given");
  REQUIRE(ReasonOf(set->CombineAndFinalize(AsBytes(kInput), *blinded, {}).status()) == Reason::kOprfTooFewShares);
}

TEST_CASE("a share evaluated under a wrong scalar fails its proof and its holder is named", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(2, 3);
  const std::vector<HolderIndex> holders = {1, 3};
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  std::vector<ShareEvaluation> shares = Evaluate(dealing, holders, *blinded);

  // Holder 3 evaluates under k_3 + 1: a consistent proof, but for another key.
  SecretScalar tampered = SecretScalar::Zero();
  const uint8_t one[32] = {1};
  crypto_core_ristretto255_scalar_add(tampered.data(), dealing.shares[2].key.scalar().data(), one);
  auto wrong_key = PrivateKey::FromScalar(std::move(tampered));
  REQUIRE(wrong_key.ok());
  auto wrong = EvaluateShare(KeyShare{3, *std::move(wrong_key)}, blinded->element());
  REQUIRE(wrong.ok());
  shares[1] = *wrong;

  auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares);
  REQUIRE(output.status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(ReasonOf(output.status()) == Reason::kOprfProofFailed);
  REQUIRE(output.status().message() ==
          "holder 3: share failed verification against the holder's commitment; 1 of 2 needed shares valid");
}

TEST_CASE("a share with tampered bytes is refused naming its holder", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(2, 3);
  const std::vector<HolderIndex> holders = {1, 2};
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  std::vector<ShareEvaluation> shares = Evaluate(dealing, holders, *blinded);
  SECTION("the element of one share") {
    shares[0].element = shares[1].element;
    auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares);
    REQUIRE(ReasonOf(output.status()) == Reason::kOprfProofFailed);
    REQUIRE(output.status().message().find("holder 1: ") == 0);
  }
  SECTION("the element of both shares, one of them the identity") {
    shares[0].element.fill(0);
    shares[1].proof[3] ^= 0x10;
    auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares);
    REQUIRE(ReasonOf(output.status()) == Reason::kOprfProofFailed);
    REQUIRE(output.status().message().find("holders 1, 2: ") == 0);
  }
}

TEST_CASE("a share proven under another holder's commitment is rejected", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(2, 3);
  const std::vector<HolderIndex> holders = {1, 2};
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  // Holder 3's genuine share, with its valid proof against K_3, handed in as holder 2's.
  auto from_three = EvaluateShare(dealing.shares[2], blinded->element());
  REQUIRE(from_three.ok());
  from_three->holder = 2;
  auto from_one = EvaluateShare(dealing.shares[0], blinded->element());
  REQUIRE(from_one.ok());
  const ShareEvaluation shares[] = {*from_one, *from_three};
  auto output = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares);
  REQUIRE(ReasonOf(output.status()) == Reason::kOprfProofFailed);
  REQUIRE(output.status().message().find("holder 2: ") == 0);
}

TEST_CASE("a share from outside the holder set, or twice from one holder, is refused", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(2, 3);
  const std::vector<HolderIndex> holders = {1, 2};
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  const std::vector<HolderIndex> with_three = {1, 2, 3};
  auto outside = set->CombineAndFinalize(AsBytes(kInput), *blinded, Evaluate(dealing, with_three, *blinded));
  REQUIRE(outside.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(outside.status().message() == "holder 3: not in this holder set");
  const std::vector<HolderIndex> twice = {1, 1, 2};
  auto repeated = set->CombineAndFinalize(AsBytes(kInput), *blinded, Evaluate(dealing, twice, *blinded));
  REQUIRE(repeated.status().message() == "holder 1: more than one share");

  auto oprf_blinded = Blind(Mode::kOprf, AsBytes(kInput));
  REQUIRE(oprf_blinded.ok());
  REQUIRE(set->CombineAndFinalize(AsBytes(kInput), *oprf_blinded, Evaluate(dealing, holders, *oprf_blinded))
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("commitments that do not interpolate to the public key are refused", "[oprf][threshold]") {
  Dealing dealing = DealDealerKey(2, 3);
  dealing.public_shares.commitments[1] = PrivateKey::Generate().public_key();
  const std::vector<HolderIndex> holders = {1, 2};
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(ReasonOf(set.status()) == Reason::kOprfSharesInconsistent);
  const std::vector<HolderIndex> others = {1, 3};
  REQUIRE(HolderSet::New(dealing.public_shares, others).ok());
}

TEST_CASE("Lagrange coefficients for holders 1 and 2 are 2 and -1", "[oprf][threshold]") {
  const std::vector<HolderIndex> holders = {1, 2};
  auto lambdas = LagrangeCoefficients(holders);
  REQUIRE(lambdas.ok());
  std::array<uint8_t, 32> two{2}, one{1}, minus_one;
  crypto_core_ristretto255_scalar_negate(minus_one.data(), one.data());
  REQUIRE((*lambdas)[0] == two);
  REQUIRE((*lambdas)[1] == minus_one);
}

TEST_CASE("Lagrange coefficients refuse empty, repeated and out-of-range holder sets", "[oprf][threshold]") {
  REQUIRE(LagrangeCoefficients({}).status().code() == absl::StatusCode::kInvalidArgument);
  const std::vector<HolderIndex> repeated = {1, 3, 1};
  REQUIRE(LagrangeCoefficients(repeated).status().message() == "holder 1: listed more than once");
  const std::vector<HolderIndex> zero = {0, 1};
  REQUIRE(LagrangeCoefficients(zero).status().code() == absl::StatusCode::kInvalidArgument);
  const std::vector<HolderIndex> large = {1, 256};
  REQUIRE(LagrangeCoefficients(large).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a dealing needs 1 <= t <= n <= 255 and gives each holder its own share", "[oprf][threshold]") {
  REQUIRE(Deal(0, 3).status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(Deal(4, 3).status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(Deal(2, 256).status().code() == absl::StatusCode::kInvalidArgument);
  auto dealing = Deal(3, 5);
  REQUIRE(dealing.ok());
  REQUIRE(dealing->shares.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    REQUIRE(dealing->shares[i].index == i + 1);
    REQUIRE(dealing->shares[i].key.public_key() == dealing->public_shares.commitments[i]);
    REQUIRE(dealing->public_shares.commitments[i] != dealing->public_shares.public_key);
    for (size_t j = 0; j < i; ++j)
      REQUIRE_FALSE(dealing->shares[i].key.scalar().Equals(dealing->shares[j].key.scalar()));
  }
}

TEST_CASE("a 1-of-n dealing gives every holder the key itself", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(1, 2);
  const PrivateKey key = DealerKey();
  for (const KeyShare& share : dealing.shares) REQUIRE(share.key.scalar().Equals(key.scalar()));
}

TEST_CASE("VerifyShare checks one share against its holder's commitment as it arrives", "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(2, 3);
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  auto share = EvaluateShare(dealing.shares[1], blinded->element());
  REQUIRE(share.ok());
  const Element& k2 = dealing.public_shares.commitments[1];
  const Element& k3 = dealing.public_shares.commitments[2];
  CHECK(VerifyShare(k2, blinded->element(), *share).ok());
  // Against another holder's commitment, for another blinded element, or tampered: refused, naming holder 2.
  const absl::Status other_holder = VerifyShare(k3, blinded->element(), *share);
  CHECK(ReasonOf(other_holder) == Reason::kOprfProofFailed);
  CHECK(other_holder.message().find("holder 2: ") == 0);
  auto other_input = Blind(Mode::kVoprf, AsBytes(std::string("252760189")));
  REQUIRE(other_input.ok());
  CHECK(ReasonOf(VerifyShare(k2, other_input->element(), *share)) == Reason::kOprfProofFailed);
  ShareEvaluation tampered = *share;
  tampered.proof[40] ^= 1;
  CHECK(ReasonOf(VerifyShare(k2, blinded->element(), tampered)) == Reason::kOprfProofFailed);
  tampered = *share;
  tampered.element.fill(0);  // the identity
  CHECK(ReasonOf(VerifyShare(k2, blinded->element(), tampered)) == Reason::kOprfProofFailed);
}

TEST_CASE("combining shares already verified one by one gives the same output, and still checks elements",
          "[oprf][threshold]") {
  const Dealing dealing = DealDealerKey(2, 3);
  const std::vector<HolderIndex> holders = {2, 3};
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.ok());
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  std::vector<ShareEvaluation> shares = Evaluate(dealing, holders, *blinded);
  for (const auto& s : shares)
    REQUIRE(VerifyShare(dealing.public_shares.commitments[s.holder - 1], blinded->element(), s).ok());
  auto verified = set->CombineAndFinalize(AsBytes(kInput), *blinded, shares, HolderSet::Proofs::kSharesVerified);
  REQUIRE(verified.ok());
  CHECK(*verified == SingleKeyOutput());
  shares[0].element.fill(0);  // the identity is refused even without proofs
  CHECK(ReasonOf(
            set->CombineAndFinalize(AsBytes(kInput), *blinded, shares, HolderSet::Proofs::kSharesVerified).status()) ==
        Reason::kOprfProofFailed);
}

// libsodium 1.0.18 ignores an encoding's top bit; each element a holder or a
// requester reads is refused in that form (RFC 9496), before any arithmetic.
TEST_CASE("top-bit-set encodings of real elements are refused in shares, commitments and requests",
          "[oprf][threshold]") {
  auto top = [](Element e) {
    e[31] |= 0x80;
    return e;
  };
  const Dealing dealing = DealDealerKey(2, 3);
  auto blinded = Blind(Mode::kVoprf, AsBytes(kInput));
  REQUIRE(blinded.ok());
  // A holder: the blinded element.
  auto at_holder = EvaluateShare(dealing.shares[0], top(blinded->element()));
  REQUIRE(ReasonOf(at_holder.status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(std::string(at_holder.status().message()) == "blinded element 0: not a canonical ristretto255 encoding");

  // A requester: a share's element, as it arrives and when combined.
  const std::vector<HolderIndex> holders = {1, 2};
  std::vector<ShareEvaluation> shares = Evaluate(dealing, holders, *blinded);
  const Element commitment = dealing.public_shares.commitments[0];
  REQUIRE(VerifyShare(commitment, blinded->element(), shares[0]).ok());
  ShareEvaluation forged = shares[0];
  forged.element = top(forged.element);
  REQUIRE(ReasonOf(VerifyShare(commitment, blinded->element(), forged)) == Reason::kOprfProofFailed);
  REQUIRE(ReasonOf(VerifyShare(top(commitment), blinded->element(), shares[0])) == Reason::kOprfProofFailed);
  auto set = HolderSet::New(dealing.public_shares, holders);
  REQUIRE(set.ok());
  std::vector<ShareEvaluation> with_forged = {forged, shares[1]};
  REQUIRE(ReasonOf(set->CombineAndFinalize(AsBytes(kInput), *blinded, with_forged, HolderSet::Proofs::kSharesVerified)
                       .status()) == Reason::kOprfProofFailed);

  // The public shares: a commitment or the public key.
  PublicShares bad_commitment = dealing.public_shares;
  bad_commitment.commitments[1] = top(bad_commitment.commitments[1]);
  auto refused = HolderSet::New(bad_commitment, holders);
  REQUIRE(ReasonOf(refused.status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(std::string(refused.status().message()) ==
          "public shares: commitment of holder 2: not a canonical ristretto255 encoding");
  PublicShares bad_key = dealing.public_shares;
  bad_key.public_key = top(bad_key.public_key);
  REQUIRE(ReasonOf(HolderSet::New(bad_key, holders).status()) == Reason::kOprfInvalidEncoding);
}
