#include "keys/oprf/internal/dleq.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <string_view>

#include "base/reason.h"
#include "keys/oprf/internal/suite.h"

namespace casenode::oprf::internal {
namespace {

// Appends I2OSP(v, 2).
uint8_t* PutU16(uint8_t* p, size_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v & 0xff);
  return p + 2;
}

// Appends I2OSP(len(bytes), 2) || bytes.
uint8_t* PutFramed(uint8_t* p, std::span<const uint8_t> bytes) {
  p = PutU16(p, bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

uint8_t* PutLabel(uint8_t* p, std::string_view label) {
  std::memcpy(p, label.data(), label.size());
  return p + label.size();
}

constexpr std::string_view kComposite = "Composite";
constexpr std::string_view kChallenge = "Challenge";

// d_i = HashToScalar(I2OSP(len(seed), 2) || seed || I2OSP(i, 2) ||
//                    I2OSP(len(Ci), 2) || Ci || I2OSP(len(Di), 2) || Di || "Composite").
void CompositeScalar(const Dsts& dsts, const std::array<uint8_t, 64>& seed, size_t i, const Element& c,
                     const Element& d, std::span<uint8_t, 32> out) {
  std::array<uint8_t, 2 + 64 + 2 + 2 * (2 + kElementBytes) + kComposite.size()> t;
  uint8_t* p = PutFramed(t.data(), seed);
  p = PutU16(p, i);
  p = PutFramed(p, c);
  p = PutFramed(p, d);
  p = PutLabel(p, kComposite);
  HashToScalar(std::span<const uint8_t>(t.data(), static_cast<size_t>(p - t.data())), dsts.hash_to_scalar, out);
}

// M = sum d_i*C_i; and Z = sum d_i*D_i when `z` is given (the verifier's
// ComputeComposites; the prover's ComputeCompositesFast sets Z = k*M instead).
void Composites(Mode mode, const Element& B, std::span<const Element> C, std::span<const Element> D, Element& m,
                Element* z) {
  const Dsts& dsts = DstsFor(mode);
  const std::array<uint8_t, 64> seed = CompositeSeed(mode, B);
  m.fill(0);
  if (z != nullptr) z->fill(0);
  for (size_t i = 0; i < C.size(); ++i) {
    std::array<uint8_t, 32> di;
    CompositeScalar(dsts, seed, i, C[i], D[i], di);
    Element term;
    Mul(term, di.data(), C[i]);
    Add(m, m, term);
    if (z != nullptr) {
      Mul(term, di.data(), D[i]);
      Add(*z, *z, term);
    }
  }
}

// c = HashToScalar(I2OSP(len(Bm), 2) || Bm || ... || I2OSP(len(a3), 2) || a3 || "Challenge")
// over Bm, a0 = M, a1 = Z, a2 = t2, a3 = t3.
void Challenge(const Dsts& dsts, const Element& B, const Element& m, const Element& z, const Element& t2,
               const Element& t3, std::span<uint8_t, 32> out) {
  std::array<uint8_t, 5 * (2 + kElementBytes) + kChallenge.size()> t;
  uint8_t* p = t.data();
  for (const Element* e : {&B, &m, &z, &t2, &t3}) p = PutFramed(p, *e);
  p = PutLabel(p, kChallenge);
  HashToScalar(std::span<const uint8_t>(t.data(), static_cast<size_t>(p - t.data())), dsts.hash_to_scalar, out);
}

}  // namespace

std::array<uint8_t, 64> CompositeSeed(Mode mode, const Element& B) {
  const std::string& seed_dst = DstsFor(mode).seed;
  std::array<uint8_t, 2 + kElementBytes + 2 + 64> t;
  uint8_t* p = PutFramed(t.data(), B);
  p = PutFramed(p, Bytes(seed_dst));
  std::array<uint8_t, 64> seed;
  crypto_hash_sha512(seed.data(), t.data(), static_cast<unsigned long long>(p - t.data()));
  return seed;
}

Proof GenerateProof(Mode mode, const uint8_t* k, const Element& B, std::span<const Element> C,
                    std::span<const Element> D, const uint8_t* r) {
  // ComputeCompositesFast: M = sum d_i*C_i, Z = k*M.
  Element m, z;
  Composites(mode, B, C, D, m, nullptr);
  Mul(z, k, m);
  Element t2, t3;
  MulBase(t2, r);
  Mul(t3, r, m);
  Proof proof;
  uint8_t* c = proof.data();
  uint8_t* s = proof.data() + kScalarBytes;
  Challenge(DstsFor(mode), B, m, z, t2, t3, std::span<uint8_t, 32>(c, 32));
  Wiped<32> ck;
  crypto_core_ristretto255_scalar_mul(ck.data(), c, k);
  crypto_core_ristretto255_scalar_sub(s, r, ck.data());  // s = r - c*k
  return proof;
}

absl::Status VerifyProof(Mode mode, const Element& B, std::span<const Element> C, std::span<const Element> D,
                         const Proof& proof) {
  const std::span<const uint8_t, 32> c(proof.data(), 32);
  const std::span<const uint8_t, 32> s(proof.data() + kScalarBytes, 32);
  if (!IsCanonicalScalar(c) || !IsCanonicalScalar(s)) {
    return Error(Reason::kOprfInvalidEncoding, "evaluation proof: scalars must be below the group order");
  }
  Element m, z;
  Composites(mode, B, C, D, m, &z);
  // t2 = s*A + c*B, t3 = s*M + c*Z.
  Element t2, t3, term;
  MulBase(t2, s.data());
  Mul(term, c.data(), B);
  Add(t2, t2, term);
  Mul(t3, s.data(), m);
  Mul(term, c.data(), z);
  Add(t3, t3, term);
  std::array<uint8_t, 32> expected;
  Challenge(DstsFor(mode), B, m, z, t2, t3, expected);
  if (sodium_memcmp(expected.data(), c.data(), 32) != 0) {
    return Error(Reason::kOprfProofFailed, "evaluation proof does not verify");
  }
  return absl::OkStatus();
}

}  // namespace casenode::oprf::internal
