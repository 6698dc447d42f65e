// RFC 9162 Merkle tree hashing (section 2.1), the pure part of the audit log:
// leaf and node hashes, the compact range a log appends to, inclusion and
// consistency proofs, and their verification. No I/O: a log supplies stored
// subtree hashes through a NodeReader.
//
//   leaf hash  = SHA-256(0x00 || entry bytes)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
//   MTH(D[n])  splits at k, the largest power of two below n.
//
// Thread-safe, pure functions (Frontier is a value type).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace casenode::tlog {

using Hash = std::array<uint8_t, 32>;

Hash LeafHash(std::span<const uint8_t> entry);
Hash LeafHash(std::string_view entry);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// MTH of the leaves, straight from the definition (O(n) hashes, O(n) memory):
// the reference that proofs and stored trees are tested against, and what an
// auditor computes from every entry it fetched.
Hash RootOf(std::span<const Hash> leaf_hashes);

// A complete subtree: the 2^level leaves starting at index * 2^level.
struct NodeId {
  uint8_t level = 0;
  uint64_t index = 0;
  friend bool operator==(const NodeId&, const NodeId&) = default;
};

// The hash of a complete subtree of the tree being proved (NotFound or
// DataLoss as the log's store says).
using NodeReader = std::function<absl::StatusOr<Hash>(NodeId)>;

// The compact range [0, size): the hashes of the complete subtrees that make
// up the tree, one per set bit of size, largest first. What a log keeps to
// append in O(log n) and to know its root without reading anything.
class Frontier {
 public:
  uint64_t size() const { return size_; }
  // The complete subtrees' hashes, largest first; the last is the last
  // leaf's own hash when size is odd.
  const std::vector<Hash>& hashes() const { return hashes_; }
  // Appends a leaf. `completed` is called for every complete subtree this
  // closes, the leaf itself (level 0) first, so a log can store them.
  void Append(const Hash& leaf, const std::function<void(NodeId, const Hash&)>& completed);
  Hash Root() const;

  // size u64be || one hash per set bit of size, largest subtree first.
  std::string Encode() const;
  // DataLoss naming `what` unless `bytes` is exactly such an encoding.
  [[nodiscard]] static absl::StatusOr<Frontier> Decode(std::string_view bytes, std::string_view what);

  friend bool operator==(const Frontier&, const Frontier&) = default;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

// MTH(D[begin:end]) for a range the proofs use: begin a multiple of the
// largest power of two not above end - begin (the recursion's ranges).
[[nodiscard]] absl::StatusOr<Hash> RangeRoot(uint64_t begin, uint64_t end, const NodeReader& read);

// RFC 9162 2.1.3.1 PATH(index, D[size]), deepest sibling first.
// InvalidArgument unless index < size.
[[nodiscard]] absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read);
// RFC 9162 2.1.4.1 PROOF(old_size, D[size]); empty when old_size is 0 or size.
// InvalidArgument unless old_size <= size.
[[nodiscard]] absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t size,
                                                                 const NodeReader& read);

// RFC 9162 2.1.3.2.
[[nodiscard]] bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                                   const Hash& root);
// RFC 9162 2.1.4.2, plus the two trivial cases: old_size == size (empty proof,
// equal roots) and old_size == 0 (empty proof, old_root the empty root).
[[nodiscard]] bool VerifyConsistency(uint64_t old_size, uint64_t size, const Hash& old_root, const Hash& root,
                                     std::span<const Hash> proof);

}  // namespace casenode::tlog
