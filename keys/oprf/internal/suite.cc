#include "keys/oprf/internal/suite.h"

#include <cstdlib>
#include <cstring>

#include "base/reason.h"
#include "base/strings.h"
#include "keys/oprf/internal/expand.h"

namespace casenode::oprf::internal {
namespace {

Dsts MakeDsts(Mode mode) {
  std::string context = "OPRFV1-";
  context.push_back(static_cast<char>(mode));
  context += '-';
  context += kSuiteIdentifier;
  Dsts d;
  d.hash_to_group = "HashToGroup-" + context;
  d.hash_to_scalar = "HashToScalar-" + context;
  d.derive_key_pair = "DeriveKeyPair" + context;
  d.seed = "Seed-" + context;
  d.context = std::move(context);
  return d;
}

// 64 bytes of expand_message_xmd for the suite's fixed-size hashes.
void Expand64(std::span<const uint8_t> msg, std::string_view dst, std::span<uint8_t, 64> out) {
  // Only fails for an out-of-range length or DST, and every DST here is a
  // constant of at most 40 bytes: a failure is a bug.
  if (!ExpandMessageXmdSha512(msg, Bytes(dst), out).ok()) std::abort();
}

}  // namespace

const Dsts& DstsFor(Mode mode) {
  static const Dsts oprf = MakeDsts(Mode::kOprf);
  static const Dsts voprf = MakeDsts(Mode::kVoprf);
  return mode == Mode::kVoprf ? voprf : oprf;
}

Element HashToGroup(std::span<const uint8_t> msg, std::string_view dst) {
  Wiped<64> uniform;
  Expand64(msg, dst, uniform.b);
  Element e;
  crypto_core_ristretto255_from_hash(e.data(), uniform.data());
  return e;
}

void HashToScalar(std::span<const uint8_t> msg, std::string_view dst, std::span<uint8_t, 32> out) {
  Wiped<64> uniform;
  Expand64(msg, dst, uniform.b);
  crypto_core_ristretto255_scalar_reduce(out.data(), uniform.data());
}

bool IsCanonicalScalar(std::span<const uint8_t, 32> s) {
  // s is canonical iff reducing it (as a 64-byte integer) leaves it unchanged.
  Wiped<64> wide;
  Wiped<32> reduced;
  std::memcpy(wide.data(), s.data(), 32);
  crypto_core_ristretto255_scalar_reduce(reduced.data(), wide.data());
  return sodium_memcmp(reduced.data(), s.data(), 32) == 0;
}

bool IsCanonicalEncoding(const Element& e) {
  // RFC 9496 section 4.3.1: the encoding is the field element s, canonical
  // (below p), non-negative (even) and 255 bits, so the top bit is clear.
  // libsodium 1.0.18 checks the first two and the curve equation but ignores
  // the top bit (fixed upstream in 1.0.19): test it here, before any arithmetic.
  return (e[31] & 0x80) == 0 && crypto_core_ristretto255_is_valid_point(e.data()) == 1;
}

absl::Status CheckElement(const Element& e, std::string_view what) {
  if (IsIdentity(e)) return Error(Reason::kOprfInvalidEncoding, StrCat(what, ": the identity element is not allowed"));
  if (!IsCanonicalEncoding(e)) {
    return Error(Reason::kOprfInvalidEncoding, StrCat(what, ": not a canonical ristretto255 encoding"));
  }
  return absl::OkStatus();
}

void Mul(Element& q, const uint8_t* n, const Element& p) {
  // libsodium returns -1 when the result is the identity; p is valid here, so
  // that is the only way to fail, and the identity is zero bytes.
  if (crypto_scalarmult_ristretto255(q.data(), n, p.data()) != 0) q.fill(0);
}

void MulBase(Element& q, const uint8_t* n) {
  if (crypto_scalarmult_ristretto255_base(q.data(), n) != 0) q.fill(0);
}

void Add(Element& r, const Element& p, const Element& q) {
  if (IsIdentity(p)) {
    r = q;
  } else if (IsIdentity(q)) {
    r = p;
  } else {
    Element sum;
    if (crypto_core_ristretto255_add(sum.data(), p.data(), q.data()) != 0) std::abort();  // inputs are valid: a bug
    r = sum;
  }
}

std::array<uint8_t, 32> ScalarFromInt(uint32_t v) {
  std::array<uint8_t, 32> s{};
  for (size_t i = 0; i < 4; ++i) s[i] = static_cast<uint8_t>(v >> (8 * i));
  return s;
}

Output FinalizeHash(std::span<const uint8_t> input, const Element& unblinded) {
  static constexpr std::string_view kLabel = "Finalize";
  const uint8_t input_len[2] = {static_cast<uint8_t>(input.size() >> 8), static_cast<uint8_t>(input.size() & 0xff)};
  const uint8_t element_len[2] = {0, static_cast<uint8_t>(kElementBytes)};
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, input_len, 2);
  crypto_hash_sha512_update(&state, input.data(), input.size());
  crypto_hash_sha512_update(&state, element_len, 2);
  crypto_hash_sha512_update(&state, unblinded.data(), unblinded.size());
  crypto_hash_sha512_update(&state, Bytes(kLabel).data(), kLabel.size());
  Output out;
  crypto_hash_sha512_final(&state, out.data());
  sodium_memzero(&state, sizeof(state));  // it held the input (a BSN)
  return out;
}

}  // namespace casenode::oprf::internal
