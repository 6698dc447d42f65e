// RFC 9497 OPRF/VOPRF, suite ristretto255-SHA512: the RFC's known-answer
// vectors (tests/vectors/, data from the RFC text) and the checks every
// element from the other party must pass.
#include "keys/oprf/oprf.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/reason.h"
#include "keys/oprf/internal/expand.h"
#include "nlohmann/json.hpp"

using namespace casenode;
using namespace casenode::oprf;
using nlohmann::json;

namespace {

json LoadVectors(const std::string& name) {
  std::ifstream f(std::string(CASENODE_SOURCE_DIR) + "/tests/vectors/" + name);
  REQUIRE(f.good());
  return json::parse(f);
}

Bytes Hex(const std::string& hex) {
  auto b = HexDecode(hex, "vector");
  REQUIRE(b.ok());
  return *b;
}

template <size_t N>
std::array<uint8_t, N> HexArray(const std::string& hex) {
  const Bytes b = Hex(hex);
  REQUIRE(b.size() == N);
  std::array<uint8_t, N> a;
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

const json& Suite(const json& doc, const std::string& mode) {
  for (const json& m : doc["modes"]) {
    if (m["mode"] == mode) return m;
  }
  FAIL("no vectors for mode " << mode);
  return doc;
}

PrivateKey VectorKey(const json& suite, Mode mode) {
  auto key = PrivateKey::Derive(mode, Hex(suite["Seed"]), Hex(suite["KeyInfo"]));
  REQUIRE(key.ok());
  return *std::move(key);
}

// The group order L, little-endian: the smallest non-canonical scalar.
const std::string kOrderHex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

}  // namespace

TEST_CASE("the context string is OPRFV1-, the mode byte, and the suite name", "[oprf]") {
  REQUIRE(ContextString(Mode::kOprf) == std::string("OPRFV1-\x00-ristretto255-SHA512", 28));
  REQUIRE(ContextString(Mode::kVoprf) == std::string("OPRFV1-\x01-ristretto255-SHA512", 28));
}

TEST_CASE("expand_message_xmd(SHA-512) reproduces the RFC 9380 K.3 vectors", "[oprf]") {
  const json doc = LoadVectors("rfc9380-expand-message-xmd-sha512.json");
  const std::string dst = doc["DST"];
  REQUIRE(doc["vectors"].size() == 10);
  for (const json& v : doc["vectors"]) {
    const std::string msg = v["msg"];
    Bytes out(v["len_in_bytes"].get<size_t>());
    REQUIRE(internal::ExpandMessageXmdSha512(AsBytes(msg), AsBytes(dst), out).ok());
    REQUIRE(HexEncode(out) == v["uniform_bytes"].get<std::string>());
  }
}

TEST_CASE("expand_message_xmd refuses output lengths and DSTs outside RFC 9380's bounds", "[oprf]") {
  const std::string dst = "QUUX-V01-CS02-with-expander-SHA512-256";
  Bytes out(internal::kMaxExpandBytes + 1);
  REQUIRE(internal::ExpandMessageXmdSha512({}, AsBytes(dst), out).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(internal::ExpandMessageXmdSha512({}, AsBytes(dst), std::span<uint8_t>()).code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(internal::ExpandMessageXmdSha512({}, AsBytes(dst), std::span(out).first(internal::kMaxExpandBytes)).ok());
  const std::string long_dst(256, 'D');
  REQUIRE(internal::ExpandMessageXmdSha512({}, AsBytes(long_dst), std::span(out).first(32)).code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(internal::ExpandMessageXmdSha512({}, {}, std::span(out).first(32)).code() ==
          absl::StatusCode::kInvalidArgument);
}

TEST_CASE("DeriveKeyPair reproduces skSm and pkSm of RFC 9497 A.1", "[oprf]") {
  const json doc = LoadVectors("rfc9497-ristretto255-sha512.json");
  const PrivateKey oprf_key = VectorKey(Suite(doc, "OPRF"), Mode::kOprf);
  REQUIRE(HexEncode(oprf_key.scalar().CleartextBytes()) == Suite(doc, "OPRF")["skSm"].get<std::string>());
  const json& voprf = Suite(doc, "VOPRF");
  const PrivateKey voprf_key = VectorKey(voprf, Mode::kVoprf);
  REQUIRE(HexEncode(voprf_key.scalar().CleartextBytes()) == voprf["skSm"].get<std::string>());
  REQUIRE(HexEncode(voprf_key.public_key()) == voprf["pkSm"].get<std::string>());
}

TEST_CASE("OPRF mode reproduces the RFC 9497 A.1.1 vectors", "[oprf]") {
  const json doc = LoadVectors("rfc9497-ristretto255-sha512.json");
  const json& suite = Suite(doc, "OPRF");
  const PrivateKey key = VectorKey(suite, Mode::kOprf);
  REQUIRE(suite["vectors"].size() == 2);
  for (const json& v : suite["vectors"]) {
    const Bytes input = Hex(v["Input"][0]);
    auto blinded = InsecureBlindForTesting(Mode::kOprf, input, Hex(v["Blind"][0]));
    REQUIRE(blinded.ok());
    REQUIRE(HexEncode(blinded->element()) == v["BlindedElement"][0].get<std::string>());
    auto evaluated = BlindEvaluate(key, blinded->element());
    REQUIRE(evaluated.ok());
    REQUIRE(HexEncode(*evaluated) == v["EvaluationElement"][0].get<std::string>());
    auto output = Finalize(input, *blinded, *evaluated);
    REQUIRE(output.ok());
    REQUIRE(HexEncode(*output) == v["Output"][0].get<std::string>());
  }
}

TEST_CASE("VOPRF mode reproduces the RFC 9497 A.1.2 vectors, batch sizes 1 and 2", "[oprf]") {
  const json doc = LoadVectors("rfc9497-ristretto255-sha512.json");
  const json& suite = Suite(doc, "VOPRF");
  const PrivateKey key = VectorKey(suite, Mode::kVoprf);
  REQUIRE(suite["vectors"].size() == 3);
  size_t batched = 0;
  for (const json& v : suite["vectors"]) {
    const size_t batch = v["Input"].size();
    batched += batch > 1 ? 1 : 0;
    std::vector<Bytes> inputs;
    std::vector<Blinded> blinds;
    std::vector<Element> blinded_elements;
    for (size_t i = 0; i < batch; ++i) {
      inputs.push_back(Hex(v["Input"][i]));
      auto blinded = InsecureBlindForTesting(Mode::kVoprf, inputs.back(), Hex(v["Blind"][i]));
      REQUIRE(blinded.ok());
      REQUIRE(HexEncode(blinded->element()) == v["BlindedElement"][i].get<std::string>());
      blinded_elements.push_back(blinded->element());
      blinds.push_back(*std::move(blinded));
    }
    auto evaluation = InsecureBlindEvaluateWithProofForTesting(key, blinded_elements, Hex(v["ProofRandomScalar"]));
    REQUIRE(evaluation.ok());
    REQUIRE(evaluation->elements.size() == batch);
    for (size_t i = 0; i < batch; ++i) {
      REQUIRE(HexEncode(evaluation->elements[i]) == v["EvaluationElement"][i].get<std::string>());
    }
    REQUIRE(HexEncode(evaluation->proof) == v["Proof"].get<std::string>());

    std::vector<std::span<const uint8_t>> input_spans(inputs.begin(), inputs.end());
    auto outputs = VerifiableFinalize(HexArray<32>(suite["pkSm"]), input_spans, blinds, *evaluation);
    REQUIRE(outputs.ok());
    REQUIRE(outputs->size() == batch);
    for (size_t i = 0; i < batch; ++i) REQUIRE(HexEncode((*outputs)[i]) == v["Output"][i].get<std::string>());
  }
  REQUIRE(batched == 1);
}

TEST_CASE("VOPRF Finalize refuses an evaluation whose proof does not hold", "[oprf]") {
  const json doc = LoadVectors("rfc9497-ristretto255-sha512.json");
  const json& suite = Suite(doc, "VOPRF");
  const json& v = suite["vectors"][0];
  const Bytes input = Hex(v["Input"][0]);
  auto blinded = InsecureBlindForTesting(Mode::kVoprf, input, Hex(v["Blind"][0]));
  REQUIRE(blinded.ok());
  const Element pk = HexArray<32>(suite["pkSm"]);
  const Element evaluated = HexArray<32>(v["EvaluationElement"][0]);
  const Proof proof = HexArray<64>(v["Proof"]);
  REQUIRE(VerifiableFinalize(pk, input, *blinded, evaluated, proof).ok());

  SECTION("a flipped bit of the challenge") {
    Proof bad = proof;
    bad[0] ^= 1;
    REQUIRE(ReasonOf(VerifiableFinalize(pk, input, *blinded, evaluated, bad).status()) == Reason::kOprfProofFailed);
  }
  SECTION("another evaluated element") {
    const Element other = HexArray<32>(suite["vectors"][1]["EvaluationElement"][0]);
    auto out = VerifiableFinalize(pk, input, *blinded, other, proof);
    REQUIRE(out.status().code() == absl::StatusCode::kDataLoss);
    REQUIRE(ReasonOf(out.status()) == Reason::kOprfProofFailed);
  }
  SECTION("another server's public key") {
    const PrivateKey other = PrivateKey::Generate();
    REQUIRE(ReasonOf(VerifiableFinalize(other.public_key(), input, *blinded, evaluated, proof).status()) ==
            Reason::kOprfProofFailed);
  }
  SECTION("a proof scalar that is not below the group order") {
    Proof bad = proof;
    const Element order = HexArray<32>(kOrderHex);
    std::copy(order.begin(), order.end(), bad.begin() + 32);
    REQUIRE(ReasonOf(VerifiableFinalize(pk, input, *blinded, evaluated, bad).status()) == Reason::kOprfInvalidEncoding);
  }
}

TEST_CASE("identity and non-canonical elements are refused wherever they come in", "[oprf]") {
  const PrivateKey key = PrivateKey::Generate();
  const Element identity{};
  Element non_canonical;
  non_canonical.fill(0xff);
  const Bytes input = {1, 2, 3};

  auto identity_eval = BlindEvaluate(key, identity);
  REQUIRE(ReasonOf(identity_eval.status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(identity_eval.status().message() == "blinded element: the identity element is not allowed");
  auto bad_eval = BlindEvaluate(key, non_canonical);
  REQUIRE(ReasonOf(bad_eval.status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(bad_eval.status().message() == "blinded element: not a canonical ristretto255 encoding");

  auto blinded = Blind(Mode::kVoprf, input);
  REQUIRE(blinded.ok());
  const Element batch[] = {blinded->element(), identity};
  auto batch_eval = BlindEvaluateWithProof(key, batch);
  REQUIRE(ReasonOf(batch_eval.status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(batch_eval.status().message() == "blinded element 1: the identity element is not allowed");
  REQUIRE(BlindEvaluateWithProof(key, {}).status().code() == absl::StatusCode::kInvalidArgument);

  auto evaluation = BlindEvaluateWithProof(key, std::span(batch, 1));
  REQUIRE(evaluation.ok());
  REQUIRE(
      ReasonOf(VerifiableFinalize(identity, input, *blinded, evaluation->elements[0], evaluation->proof).status()) ==
      Reason::kOprfInvalidEncoding);
  REQUIRE(ReasonOf(VerifiableFinalize(key.public_key(), input, *blinded, identity, evaluation->proof).status()) ==
          Reason::kOprfInvalidEncoding);
  REQUIRE(ReasonOf(VerifiableFinalize(key.public_key(), input, *blinded, non_canonical, evaluation->proof).status()) ==
          Reason::kOprfInvalidEncoding);
  REQUIRE(VerifiableFinalize(key.public_key(), input, *blinded, evaluation->elements[0], evaluation->proof).ok());

  auto oprf_blinded = Blind(Mode::kOprf, input);
  REQUIRE(oprf_blinded.ok());
  REQUIRE(ReasonOf(Finalize(input, *oprf_blinded, identity).status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(ReasonOf(Finalize(input, *oprf_blinded, non_canonical).status()) == Reason::kOprfInvalidEncoding);
}

TEST_CASE("random blinds give the same output as the RFC's fixed ones", "[oprf]") {
  const json doc = LoadVectors("rfc9497-ristretto255-sha512.json");
  for (const auto& [name, mode] : {std::pair{"OPRF", Mode::kOprf}, std::pair{"VOPRF", Mode::kVoprf}}) {
    const json& suite = Suite(doc, name);
    const PrivateKey key = VectorKey(suite, mode);
    const json& v = suite["vectors"][1];
    const Bytes input = Hex(v["Input"][0]);
    auto blinded = Blind(mode, input);
    REQUIRE(blinded.ok());
    REQUIRE(HexEncode(blinded->element()) != v["BlindedElement"][0].get<std::string>());
    absl::StatusOr<Output> output;
    if (mode == Mode::kOprf) {
      auto evaluated = BlindEvaluate(key, blinded->element());
      REQUIRE(evaluated.ok());
      output = Finalize(input, *blinded, *evaluated);
    } else {
      auto evaluation = BlindEvaluateWithProof(key, std::span(&blinded->element(), 1));
      REQUIRE(evaluation.ok());
      output = VerifiableFinalize(key.public_key(), input, *blinded, evaluation->elements[0], evaluation->proof);
    }
    REQUIRE(output.ok());
    REQUIRE(HexEncode(*output) == v["Output"][0].get<std::string>());
  }
}

TEST_CASE("each Finalize takes only blinds made for its own mode", "[oprf]") {
  const PrivateKey key = PrivateKey::Generate();
  const Bytes input = {7};
  auto voprf_blinded = Blind(Mode::kVoprf, input);
  REQUIRE(voprf_blinded.ok());
  auto evaluated = BlindEvaluate(key, voprf_blinded->element());
  REQUIRE(evaluated.ok());
  REQUIRE(Finalize(input, *voprf_blinded, *evaluated).status().code() == absl::StatusCode::kInvalidArgument);

  auto oprf_blinded = Blind(Mode::kOprf, input);
  REQUIRE(oprf_blinded.ok());
  auto evaluation = BlindEvaluateWithProof(key, std::span(&oprf_blinded->element(), 1));
  REQUIRE(evaluation.ok());
  REQUIRE(VerifiableFinalize(key.public_key(), input, *oprf_blinded, evaluation->elements[0], evaluation->proof)
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an input longer than 65535 bytes is refused", "[oprf]") {
  const Bytes input(kMaxInputBytes + 1, 0x5a);
  REQUIRE(ReasonOf(Blind(Mode::kOprf, input).status()) == Reason::kOprfInvalidInput);
  REQUIRE(Blind(Mode::kOprf, std::span(input).first(kMaxInputBytes)).ok());
}

TEST_CASE("scalars at or above the group order, and zero blinds or keys, are refused", "[oprf]") {
  REQUIRE(ReasonOf(SecretScalar::FromCanonicalBytes(Hex(kOrderHex)).status()) == Reason::kOprfInvalidEncoding);
  Bytes below = Hex(kOrderHex);
  below[0] -= 1;  // L - 1
  REQUIRE(SecretScalar::FromCanonicalBytes(below).ok());
  REQUIRE_FALSE(SecretScalar::FromCanonicalBytes(Bytes(31, 0)).ok());
  const Bytes zero(32, 0);
  REQUIRE(ReasonOf(InsecureBlindForTesting(Mode::kOprf, zero, zero).status()) == Reason::kOprfInvalidEncoding);
  auto zero_scalar = SecretScalar::FromCanonicalBytes(zero);
  REQUIRE(zero_scalar.ok());
  REQUIRE(ReasonOf(PrivateKey::FromScalar(*std::move(zero_scalar)).status()) == Reason::kOprfInvalidEncoding);
  REQUIRE(PrivateKey::Derive(Mode::kOprf, Bytes(31, 1), {}).status().code() == absl::StatusCode::kInvalidArgument);
}

// libsodium 1.0.18 ignores the top bit of an encoding; RFC 9496 requires
// refusing it. Each real RFC 9497 element, with that bit set, is refused at
// every entry point, before any arithmetic.
TEST_CASE("the top-bit-set form of a real RFC 9497 element is refused at every entry point", "[oprf]") {
  const json doc = LoadVectors("rfc9497-ristretto255-sha512.json");
  const json& suite = Suite(doc, "VOPRF");
  const json& v = suite["vectors"][0];
  const PrivateKey key = VectorKey(suite, Mode::kVoprf);
  const Bytes input = Hex(v["Input"][0]);
  auto top = [](Element e) {
    e[31] |= 0x80;
    return e;
  };
  const Element blinded = HexArray<32>(v["BlindedElement"][0]);
  const Element evaluated = HexArray<32>(v["EvaluationElement"][0]);
  const Element pk = HexArray<32>(suite["pkSm"]);
  const Proof proof = HexArray<64>(v["Proof"]);
  REQUIRE(IsValidElement(blinded));
  REQUIRE(IsValidElement(evaluated));
  REQUIRE(IsValidElement(pk));
  for (const Element& e : {blinded, evaluated, pk}) REQUIRE_FALSE(IsValidElement(top(e)));

  auto refused = [](const absl::Status& s, const std::string& what) {
    REQUIRE(ReasonOf(s) == Reason::kOprfInvalidEncoding);
    REQUIRE(std::string(s.message()) == what + ": not a canonical ristretto255 encoding");
  };
  refused(BlindEvaluate(key, top(blinded)).status(), "blinded element");
  const Element batch[] = {blinded, top(blinded)};
  refused(BlindEvaluateWithProof(key, batch).status(), "blinded element 1");
  refused(InsecureBlindEvaluateWithProofForTesting(key, std::span(batch).subspan(1), Hex(v["ProofRandomScalar"]))
              .status(),
          "blinded element 0");

  auto blind = InsecureBlindForTesting(Mode::kVoprf, input, Hex(v["Blind"][0]));
  REQUIRE(blind.ok());
  REQUIRE(VerifiableFinalize(pk, input, *blind, evaluated, proof).ok());
  refused(VerifiableFinalize(pk, input, *blind, top(evaluated), proof).status(), "evaluated element 0");
  refused(VerifiableFinalize(top(pk), input, *blind, evaluated, proof).status(), "public key");

  const json& oprf_suite = Suite(doc, "OPRF");
  const json& ov = oprf_suite["vectors"][0];
  auto oprf_blind = InsecureBlindForTesting(Mode::kOprf, Hex(ov["Input"][0]), Hex(ov["Blind"][0]));
  REQUIRE(oprf_blind.ok());
  const Element oprf_evaluated = HexArray<32>(ov["EvaluationElement"][0]);
  REQUIRE(Finalize(Hex(ov["Input"][0]), *oprf_blind, oprf_evaluated).ok());
  refused(Finalize(Hex(ov["Input"][0]), *oprf_blind, top(oprf_evaluated)).status(), "evaluated element");
}
