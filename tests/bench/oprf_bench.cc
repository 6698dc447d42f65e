// bench oprf_eval: a key holder's share evaluation (VOPRF BlindEvaluate with
// proof on one blinded element, EvaluateShare) vs the baseline: the
// libsodium operations that evaluation consists of, called directly with no
// checks, no types and no allocation: 4 crypto_scalarmult_ristretto255
// (the evaluation k*C; the composites M = d*C and Z = k*M; the proof's r*M),
// 1 crypto_scalarmult_ristretto255_base (r*G), 5 SHA-512 (the composite seed
// and two HashToScalar of two blocks each) and the scalar arithmetic of s.
// `brief_baseline` is a smaller count first estimated for this evaluation
// (1 scalarmult for the evaluation, 2 for the proof, two HashToScalar); it
// leaves out the composites' two scalar multiplications, which RFC 9497
// requires even for a batch of one, so it bounds what no RFC-conformant
// evaluation on libsodium's public API can reach.
//
// bench oprf_combine: the requester's HolderSet::CombineAndFinalize for t
// shares (verify t proofs, combine, finalize) vs the same libsodium
// operations called directly. Both baselines are checked once to produce the
// same bytes as the library, so they do the same work.
// Single thread; reports median and p99 per operation.
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/bsn.h"
#include "base/strings.h"
#include "keys/oprf/oprf.h"
#include "keys/oprf/threshold.h"
#include "tests/bench/harness.h"

using namespace casenode;
using namespace casenode::oprf;

namespace {

using Scalar = std::array<uint8_t, 32>;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench oprf: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(StrCat(what, ": ", std::string(v.status().message())));
  return *std::move(v);
}

// The raw operations, written out with libsodium only (VOPRF mode).
struct Raw {
  std::string context = ContextString(Mode::kVoprf);
  std::string hash_to_scalar_dst = "HashToScalar-" + context;
  std::string seed_dst = "Seed-" + context;

  // expand_message_xmd(msg, DST, 64) is b_1 alone; then reduce mod L.
  void HashToScalar(const uint8_t* msg, size_t len, uint8_t out[32]) const {
    static const uint8_t kZPad[128] = {};
    const uint8_t lib_str[3] = {0, 64, 0};
    const uint8_t one = 1;
    const uint8_t dst_len = static_cast<uint8_t>(hash_to_scalar_dst.size());
    const auto* dst = reinterpret_cast<const uint8_t*>(hash_to_scalar_dst.data());
    uint8_t b0[64], b1[64];
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, kZPad, sizeof(kZPad));
    crypto_hash_sha512_update(&st, msg, len);
    crypto_hash_sha512_update(&st, lib_str, 3);
    crypto_hash_sha512_update(&st, dst, dst_len);
    crypto_hash_sha512_update(&st, &dst_len, 1);
    crypto_hash_sha512_final(&st, b0);
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, b0, 64);
    crypto_hash_sha512_update(&st, &one, 1);
    crypto_hash_sha512_update(&st, dst, dst_len);
    crypto_hash_sha512_update(&st, &dst_len, 1);
    crypto_hash_sha512_final(&st, b1);
    crypto_core_ristretto255_scalar_reduce(out, b1);
  }

  static uint8_t* Framed(uint8_t* p, const uint8_t* bytes, size_t len) {
    p[0] = static_cast<uint8_t>(len >> 8);
    p[1] = static_cast<uint8_t>(len);
    std::memcpy(p + 2, bytes, len);
    return p + 2 + len;
  }

  void Seed(const Element& b, uint8_t seed[64]) const {
    uint8_t t[128];
    uint8_t* p = Framed(t, b.data(), 32);
    p = Framed(p, reinterpret_cast<const uint8_t*>(seed_dst.data()), seed_dst.size());
    crypto_hash_sha512(seed, t, static_cast<unsigned long long>(p - t));
  }

  void Composite(const uint8_t seed[64], const Element& c, const Element& d, uint8_t di[32]) const {
    uint8_t t[160];
    uint8_t* p = Framed(t, seed, 64);
    *p++ = 0;  // I2OSP(0, 2): the batch index
    *p++ = 0;
    p = Framed(p, c.data(), 32);
    p = Framed(p, d.data(), 32);
    std::memcpy(p, "Composite", 9);
    HashToScalar(t, static_cast<size_t>(p + 9 - t), di);
  }

  void Challenge(const Element& b, const Element& m, const Element& z, const Element& t2, const Element& t3,
                 uint8_t c[32]) const {
    uint8_t t[200];
    uint8_t* p = t;
    for (const Element* e : {&b, &m, &z, &t2, &t3}) p = Framed(p, e->data(), 32);
    std::memcpy(p, "Challenge", 9);
    HashToScalar(t, static_cast<size_t>(p + 9 - t), c);
  }

  // The holder's evaluation with proof: D = k*C and (c, s).
  bool Evaluate(const uint8_t* k, const Element& pk, const Element& c, const uint8_t* r, Element& d,
                Proof& proof) const {
    if (crypto_scalarmult_ristretto255(d.data(), k, c.data()) != 0) return false;
    uint8_t seed[64], di[32], ck[32];
    Seed(pk, seed);
    Composite(seed, c, d, di);
    Element m, z, t2, t3;
    if (crypto_scalarmult_ristretto255(m.data(), di, c.data()) != 0 ||
        crypto_scalarmult_ristretto255(z.data(), k, m.data()) != 0 ||
        crypto_scalarmult_ristretto255_base(t2.data(), r) != 0 ||
        crypto_scalarmult_ristretto255(t3.data(), r, m.data()) != 0) {
      return false;
    }
    Challenge(pk, m, z, t2, t3, proof.data());
    crypto_core_ristretto255_scalar_mul(ck, proof.data(), k);
    crypto_core_ristretto255_scalar_sub(proof.data() + 32, r, ck);
    sodium_memzero(ck, sizeof(ck));
    return true;
  }

  // The task's smaller count: Z = k*C, t2 = r*G, t3 = r*Z, two HashToScalar.
  bool BriefEvaluate(const uint8_t* k, const Element& pk, const Element& c, const uint8_t* r, Element& d,
                     Proof& proof) const {
    uint8_t seed[64] = {}, di[32];
    Element t2, t3;
    if (crypto_scalarmult_ristretto255(d.data(), k, c.data()) != 0 ||
        crypto_scalarmult_ristretto255_base(t2.data(), r) != 0 ||
        crypto_scalarmult_ristretto255(t3.data(), r, d.data()) != 0) {
      return false;
    }
    Composite(seed, c, d, di);
    Challenge(pk, c, d, t2, t3, proof.data());
    return true;
  }

  // The requester's verification of one share against its commitment.
  bool Verify(const Element& pk, const Element& c, const Element& d, const Proof& proof) const {
    uint8_t seed[64], di[32], expected[32];
    Seed(pk, seed);
    Composite(seed, c, d, di);
    Element m, z, t2, t3, u, v;
    if (crypto_scalarmult_ristretto255(m.data(), di, c.data()) != 0 ||
        crypto_scalarmult_ristretto255(z.data(), di, d.data()) != 0 ||
        crypto_scalarmult_ristretto255_base(u.data(), proof.data() + 32) != 0 ||
        crypto_scalarmult_ristretto255(v.data(), proof.data(), pk.data()) != 0 ||
        crypto_core_ristretto255_add(t2.data(), u.data(), v.data()) != 0 ||
        crypto_scalarmult_ristretto255(u.data(), proof.data() + 32, m.data()) != 0 ||
        crypto_scalarmult_ristretto255(v.data(), proof.data(), z.data()) != 0 ||
        crypto_core_ristretto255_add(t3.data(), u.data(), v.data()) != 0) {
      return false;
    }
    Challenge(pk, m, z, t2, t3, expected);
    return sodium_memcmp(expected, proof.data(), 32) == 0;
  }

  // Verify every share, combine with the precomputed coefficients, finalize.
  bool Combine(std::span<const uint8_t> input, const uint8_t* blind, const Element& c,
               const std::vector<Element>& commitments, const std::vector<Scalar>& lambdas,
               const std::vector<ShareEvaluation>& shares, Output& out) const {
    for (size_t j = 0; j < shares.size(); ++j) {
      if (!Verify(commitments[j], c, shares[j].element, shares[j].proof)) return false;
    }
    uint8_t inverse[32], coefficient[32];
    if (crypto_core_ristretto255_scalar_invert(inverse, blind) != 0) return false;
    Element n, term;
    for (size_t j = 0; j < shares.size(); ++j) {
      crypto_core_ristretto255_scalar_mul(coefficient, lambdas[j].data(), inverse);
      if (crypto_scalarmult_ristretto255(term.data(), coefficient, shares[j].element.data()) != 0) return false;
      if (j == 0) {
        n = term;
      } else if (crypto_core_ristretto255_add(n.data(), n.data(), term.data()) != 0) {
        return false;
      }
    }
    const uint8_t input_len[2] = {static_cast<uint8_t>(input.size() >> 8), static_cast<uint8_t>(input.size())};
    const uint8_t element_len[2] = {0, 32};
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, input_len, 2);
    crypto_hash_sha512_update(&st, input.data(), input.size());
    crypto_hash_sha512_update(&st, element_len, 2);
    crypto_hash_sha512_update(&st, n.data(), 32);
    crypto_hash_sha512_update(&st, reinterpret_cast<const uint8_t*>("Finalize"), 8);
    crypto_hash_sha512_final(&st, out.data());
    return true;
  }
};

std::string Fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

bench::Result Run(const std::function<bool()>& op) {
  return bench::RunConcurrent(1, std::chrono::milliseconds(400), op);
}

}  // namespace

int main() {
  if (sodium_init() < 0) Die("sodium_init failed");
  const Raw raw;
  const Bsn bsn = Check(ParseBsn("123456782"), "bsn");
  const std::span<const uint8_t> input = bsn.CleartextDigits();

  // oprf_eval: holder 1 of a 2-of-3 dealing evaluates its share.
  const Dealing dealing = Check(Deal(2, 3), "deal");
  const KeyShare& share = dealing.shares[0];
  const Blinded blinded = Check(Blind(Mode::kVoprf, input), "blind");
  const Element c = blinded.element();
  {
    // The baseline computes the same bytes as the library.
    Scalar r;
    crypto_core_ristretto255_scalar_random(r.data());
    const Evaluation ours = Check(InsecureBlindEvaluateWithProofForTesting(share.key, std::span(&c, 1), r), "evaluate");
    Element d;
    Proof proof;
    if (!raw.Evaluate(share.key.scalar().data(), share.key.public_key(), c, r.data(), d, proof) ||
        d != ours.elements[0] || proof != ours.proof) {
      Die("the raw evaluation differs from the library's");
    }
  }
  volatile uint8_t sink = 0;
  auto ours_eval = [&] {
    return Run([&] {
      auto s = EvaluateShare(share, c);
      if (!s.ok()) return false;
      sink = sink + s->proof[0];
      return true;
    });
  };
  auto raw_eval = [&](bool brief) {
    return [&, brief] {
      return Run([&] {
        Scalar r;
        crypto_core_ristretto255_scalar_random(r.data());
        Element d;
        Proof proof;
        const bool ok =
            brief ? raw.BriefEvaluate(share.key.scalar().data(), share.key.public_key(), c, r.data(), d, proof)
                  : raw.Evaluate(share.key.scalar().data(), share.key.public_key(), c, r.data(), d, proof);
        sodium_memzero(r.data(), r.size());
        sink = sink + proof[0];
        return ok;
      });
    };
  };
  const bench::Comparison eval = bench::Compare(5, ours_eval, raw_eval(false));
  const bench::Comparison brief = bench::Compare(3, ours_eval, raw_eval(true));
  bench::Report(
      "oprf_eval", eval,
      StrCat("brief_baseline=", static_cast<long>(brief.baseline.ops_per_s), " brief_ratio=", Fixed3(brief.ratio)));

  // oprf_combine: the requester verifies t shares, combines and finalizes.
  for (const auto& [t, n] : {std::pair<uint32_t, uint32_t>{2, 3}, std::pair<uint32_t, uint32_t>{3, 5}}) {
    const Dealing d = Check(Deal(t, n), "deal");
    std::vector<HolderIndex> holders;
    for (HolderIndex h = 1; h <= t; ++h) holders.push_back(h);
    const HolderSet set = Check(HolderSet::New(d.public_shares, holders), "holder set");
    const std::vector<Scalar> lambdas = Check(LagrangeCoefficients(holders), "lambdas");
    std::vector<Element> commitments;
    std::vector<ShareEvaluation> shares;
    for (HolderIndex h : holders) {
      commitments.push_back(d.public_shares.commitments[h - 1]);
      shares.push_back(Check(EvaluateShare(d.shares[h - 1], c), "evaluate share"));
    }
    const Output expected = Check(set.CombineAndFinalize(input, blinded, shares), "combine");
    Output raw_out;
    if (!raw.Combine(input, blinded.blind().data(), c, commitments, lambdas, shares, raw_out) || raw_out != expected) {
      Die("the raw combination differs from the library's");
    }
    const bench::Comparison combine = bench::Compare(
        5,
        [&] {
          return Run([&] {
            auto out = set.CombineAndFinalize(input, blinded, shares);
            if (!out.ok()) return false;
            sink = sink + (*out)[0];
            return true;
          });
        },
        [&] {
          return Run([&] {
            Output out;
            const bool ok = raw.Combine(input, blinded.blind().data(), c, commitments, lambdas, shares, out);
            sink = sink + out[0];
            return ok;
          });
        });
    bench::Report("oprf_combine", combine, StrCat("t=", t, " holders=", n));
  }
  return 0;
}
