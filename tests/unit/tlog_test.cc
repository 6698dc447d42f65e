// The audit log's pure room: RFC 9162 hashing and proofs against the
// Certificate Transparency reference tree and against a brute-force
// reference (the RFC's recursive definitions over a leaf list) for every
// tree size up to 64; C2SP notes, checkpoints and cosignatures.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "tlog/merkle.h"
#include "tlog/note.h"
#include "nlohmann/json.hpp"

namespace casenode::tlog {
namespace {

using nlohmann::json;

Hash H(const std::string& hex) {
  auto b = HexDecode(hex, "vector");
  REQUIRE(b.ok());
  REQUIRE(b->size() == 32);
  Hash h;
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

std::vector<Hash> Hashes(const json& list) {
  std::vector<Hash> out;
  for (const auto& h : list) out.push_back(H(h.get<std::string>()));
  return out;
}

// The RFC's definitions, recursively over the leaf list: the reference.
std::vector<Hash> RefPath(uint64_t m, std::span<const Hash> d) {
  if (d.size() <= 1) return {};
  const size_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> out;
  if (m < k) {
    out = RefPath(m, d.first(k));
    out.push_back(RootOf(d.subspan(k)));
  } else {
    out = RefPath(m - k, d.subspan(k));
    out.push_back(RootOf(d.first(k)));
  }
  return out;
}

std::vector<Hash> RefSubproof(uint64_t m, std::span<const Hash> d, bool b) {
  if (m == d.size()) return b ? std::vector<Hash>{} : std::vector<Hash>{RootOf(d)};
  const size_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> out;
  if (m <= k) {
    out = RefSubproof(m, d.first(k), b);
    out.push_back(RootOf(d.subspan(k)));
  } else {
    out = RefSubproof(m - k, d.subspan(k), false);
    out.push_back(RootOf(d.first(k)));
  }
  return out;
}

// A tree kept the way the log keeps it: the frontier plus every complete node.
struct StoredTree {
  Frontier frontier;
  std::map<std::pair<uint8_t, uint64_t>, Hash> nodes;
  void Append(const Hash& leaf) {
    frontier.Append(leaf, [&](NodeId id, const Hash& h) { nodes[{id.level, id.index}] = h; });
  }
  NodeReader Reader() const {
    return [this](NodeId id) -> absl::StatusOr<Hash> {
      auto it = nodes.find({id.level, id.index});
      if (it == nodes.end()) return absl::NotFoundError("no such node");
      return it->second;
    };
  }
};

json Vectors() {
  std::ifstream f(std::string(CASENODE_SOURCE_DIR) + "/tests/vectors/rfc6962-merkle.json");
  REQUIRE(f.good());
  return json::parse(f);
}

TEST_CASE("tlog: roots, inclusion and consistency proofs match the Certificate Transparency reference tree") {
  const json v = Vectors();
  std::vector<Hash> leaves;
  StoredTree tree;
  REQUIRE(RootOf({}) == H(v["roots"][0]));
  REQUIRE(tree.frontier.Root() == EmptyRoot());
  for (const auto& l : v["leaves"]) {
    auto bytes = HexDecode(l.get<std::string>(), "leaf");
    REQUIRE(bytes.ok());
    leaves.push_back(LeafHash(std::span<const uint8_t>(*bytes)));
    tree.Append(leaves.back());
    REQUIRE(RootOf(leaves) == H(v["roots"][leaves.size()]));
    REQUIRE(tree.frontier.Root() == H(v["roots"][leaves.size()]));
  }
  for (const auto& c : v["inclusion"]) {
    const uint64_t index = c["index"], size = c["size"];
    auto proof = InclusionProof(index, size, tree.Reader());
    REQUIRE(proof.ok());
    REQUIRE(*proof == Hashes(c["proof"]));
    REQUIRE(VerifyInclusion(index, size, leaves[index], *proof, H(v["roots"][size])));
  }
  for (const auto& c : v["consistency"]) {
    const uint64_t old_size = c["old_size"], size = c["size"];
    auto proof = ConsistencyProof(old_size, size, tree.Reader());
    REQUIRE(proof.ok());
    REQUIRE(*proof == Hashes(c["proof"]));
    REQUIRE(VerifyConsistency(old_size, size, H(v["roots"][old_size]), H(v["roots"][size]), *proof));
  }
}

TEST_CASE("tlog: every proof for every tree size up to 64 equals the RFC's definition and verifies") {
  std::vector<Hash> leaves;
  StoredTree tree;
  std::vector<Hash> roots{EmptyRoot()};
  for (int i = 0; i < 64; ++i) {
    leaves.push_back(LeafHash("entry " + std::to_string(i)));
    tree.Append(leaves.back());
    roots.push_back(RootOf(leaves));
    REQUIRE(tree.frontier.Root() == roots.back());
    auto decoded = Frontier::Decode(tree.frontier.Encode(), "frontier");
    REQUIRE(decoded.ok());
    REQUIRE(*decoded == tree.frontier);
  }
  for (uint64_t n = 1; n <= 64; ++n) {
    const std::span<const Hash> d(leaves.data(), n);
    for (uint64_t m = 0; m < n; ++m) {
      auto proof = InclusionProof(m, n, tree.Reader());
      REQUIRE(proof.ok());
      REQUIRE(*proof == RefPath(m, d));
      REQUIRE(VerifyInclusion(m, n, leaves[m], *proof, roots[n]));
      // Another leaf, index or root does not verify; nor does a changed or cut proof.
      // (The size is not bound by a proof alone, e.g. 5 and 6 share leaf 0's
      // path shape: the signed checkpoint binds it.)
      REQUIRE_FALSE(VerifyInclusion(m, n, LeafHash("other"), *proof, roots[n]));
      if (n > 1) REQUIRE_FALSE(VerifyInclusion((m + 1) % n, n, leaves[m], *proof, roots[n]));
      REQUIRE_FALSE(VerifyInclusion(m, n, leaves[m], *proof, roots[n - 1]));
      if (!proof->empty()) {
        auto bad = *proof;
        bad.back()[0] ^= 1;
        REQUIRE_FALSE(VerifyInclusion(m, n, leaves[m], bad, roots[n]));
        bad = *proof;
        bad.pop_back();
        REQUIRE_FALSE(VerifyInclusion(m, n, leaves[m], bad, roots[n]));
      }
      auto longer = *proof;
      longer.push_back(roots[n]);
      REQUIRE_FALSE(VerifyInclusion(m, n, leaves[m], longer, roots[n]));
    }
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = ConsistencyProof(m, n, tree.Reader());
      REQUIRE(proof.ok());
      const auto ref = (m == 0 || m == n) ? std::vector<Hash>{} : RefSubproof(m, d, true);
      REQUIRE(*proof == ref);
      REQUIRE(VerifyConsistency(m, n, roots[m], roots[n], *proof));
      if (m > 0 && m < n) {
        // A rewritten history: the old root of another tree does not verify.
        REQUIRE_FALSE(VerifyConsistency(m, n, LeafHash("forged"), roots[n], *proof));
        REQUIRE_FALSE(VerifyConsistency(m, n, roots[m], roots[n - 1], *proof));
        auto bad = *proof;
        bad.front()[5] ^= 0x80;
        REQUIRE_FALSE(VerifyConsistency(m, n, roots[m], roots[n], bad));
        bad = *proof;
        bad.pop_back();
        REQUIRE_FALSE(VerifyConsistency(m, n, roots[m], roots[n], bad));
      }
    }
  }
  REQUIRE_FALSE(InclusionProof(3, 3, tree.Reader()).ok());
  REQUIRE_FALSE(ConsistencyProof(5, 4, tree.Reader()).ok());
  REQUIRE_FALSE(VerifyConsistency(5, 4, roots[5], roots[4], {}));
  REQUIRE_FALSE(VerifyConsistency(0, 4, roots[1], roots[4], {}));
}

TEST_CASE("tlog: a frontier that does not match its size is refused") {
  StoredTree tree;
  for (int i = 0; i < 5; ++i) tree.Append(LeafHash(std::to_string(i)));
  std::string enc = tree.frontier.Encode();
  REQUIRE_FALSE(Frontier::Decode(enc.substr(0, enc.size() - 1), "frontier").ok());
  REQUIRE_FALSE(Frontier::Decode(enc + std::string(32, 'x'), "frontier").ok());
  REQUIRE_FALSE(Frontier::Decode("short", "frontier").ok());
}

struct TestKey {
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  TestKey() {
    std::array<uint8_t, 32> seed{};
    seed.fill(7);
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  }
  std::string Sign(std::string_view m) const {
    std::string sig(64, '\0');
    crypto_sign_detached(reinterpret_cast<uint8_t*>(sig.data()), nullptr, reinterpret_cast<const uint8_t*>(m.data()),
                         m.size(), sk.data());
    return sig;
  }
};

TEST_CASE("tlog: a checkpoint is a signed note that verifies under its key and nothing else") {
  const TestKey key;
  const Checkpoint cp{"casenode.log/gemeente", 20852163, LeafHash("x")};
  const std::string body = CheckpointBody(cp);
  REQUIRE(body.starts_with("casenode.log/gemeente\n20852163\n"));
  REQUIRE(body.back() == '\n');
  Note note{body, {{cp.origin, NoteKeyId(cp.origin, kEd25519Type, key.pk), key.Sign(body)}}};
  const std::string text = FormatNote(note);
  REQUIRE(text.find("\n\n\xE2\x80\x94 casenode.log/gemeente ") != std::string::npos);

  auto parsed = ParseNote(text);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->text == body);
  REQUIRE(VerifyNoteSignature(*parsed, cp.origin, key.pk));
  auto back = ParseCheckpointBody(parsed->text);
  REQUIRE(back.ok());
  REQUIRE(*back == cp);

  // Another name, another key, or a changed text: no.
  REQUIRE_FALSE(VerifyNoteSignature(*parsed, "casenode.log/school", key.pk));
  TestKey other;
  other.pk[0] ^= 1;
  REQUIRE_FALSE(VerifyNoteSignature(*parsed, cp.origin, other.pk));
  std::string changed = text;
  changed[changed.find("20852163")] = '3';
  auto forged = ParseNote(changed);
  REQUIRE(forged.ok());
  REQUIRE_FALSE(VerifyNoteSignature(*forged, cp.origin, key.pk));

  // The key id is the spec's: SHA-256(name || "\n" || 0x01 || key)[:4].
  std::string m = "casenode.log/gemeente\n";
  m.push_back('\x01');
  m.append(reinterpret_cast<const char*>(key.pk.data()), 32);
  unsigned char d[32];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(m.data()), m.size());
  REQUIRE(NoteKeyId(cp.origin, kEd25519Type, key.pk) == ((uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) |
                                                          (uint32_t{d[2]} << 8) | d[3]));
}

TEST_CASE("tlog: malformed notes and checkpoints are refused with a reason") {
  REQUIRE_FALSE(ParseNote("no signatures\n").ok());
  REQUIRE_FALSE(ParseNote("text\n\n").ok());
  REQUIRE_FALSE(ParseNote("text\n\n- name AAAAAAAA\n").ok());
  REQUIRE_FALSE(ParseNote("text\n\n\xE2\x80\x94 name AAAA\n").ok());          // too short
  REQUIRE_FALSE(ParseNote("te\x01xt\n\n\xE2\x80\x94 name AAAAAAAA\n").ok());  // control character
  REQUIRE_FALSE(ParseNote("te\xFFxt\n\n\xE2\x80\x94 name AAAAAAAA\n").ok());  // not UTF-8
  REQUIRE_FALSE(ParseNote(std::string(kMaxNoteBytes + 1, 'a')).ok());
  REQUIRE_FALSE(ParseCheckpointBody("origin\n12\n").ok());
  REQUIRE_FALSE(ParseCheckpointBody("origin\n012\n" + Base64Encode(EmptyRoot()) + "\n").ok());
  REQUIRE_FALSE(ParseCheckpointBody("origin\n12\n" + Base64Encode(EmptyRoot()) + "\nextension\n").ok());
  REQUIRE_FALSE(ParseCheckpointBody("or igin\n12\n" + Base64Encode(EmptyRoot()) + "\n").ok());
  REQUIRE_FALSE(ParseCheckpointBody("origin\n-1\n" + Base64Encode(EmptyRoot()) + "\n").ok());
  REQUIRE_FALSE(ParseCheckpointBody("origin\n18446744073709551616\n" + Base64Encode(EmptyRoot()) + "\n").ok());
  REQUIRE(ParseCheckpointBody("origin\n0\n" + Base64Encode(EmptyRoot()) + "\n").ok());
}

TEST_CASE("tlog: a witness cosignature verifies with its timestamp, and only on the note it signed") {
  const TestKey witness;
  const Checkpoint cp{"casenode.log/jeugdhulp", 7, LeafHash("y")};
  const std::string body = CheckpointBody(cp);
  const uint64_t t = 1796000000;
  REQUIRE(CosignedMessage(body, t) == "cosignature/v1\ntime 1796000000\n" + body);
  std::string sig;
  AppendU64(sig, t);
  sig += witness.Sign(CosignedMessage(body, t));
  Note note{body, {{"casenode.witness/politie", NoteKeyId("casenode.witness/politie", kCosignatureType, witness.pk), sig}}};
  auto parsed = ParseNote(FormatNote(note));
  REQUIRE(parsed.ok());
  auto when = VerifyCosignature(*parsed, "casenode.witness/politie", witness.pk);
  REQUIRE(when.ok());
  REQUIRE(*when == t);
  REQUIRE(VerifyCosignature(*parsed, "casenode.witness/gemeente", witness.pk).status().code() ==
          absl::StatusCode::kNotFound);
  // A cosignature is not a log signature: the type byte differs.
  REQUIRE_FALSE(VerifyNoteSignature(*parsed, "casenode.witness/politie", witness.pk));
  parsed->text = CheckpointBody({cp.origin, 8, cp.root});
  REQUIRE_FALSE(VerifyCosignature(*parsed, "casenode.witness/politie", witness.pk).ok());
}

}  // namespace
}  // namespace casenode::tlog
