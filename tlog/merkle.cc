#include "tlog/merkle.h"

#include <algorithm>
#include <bit>

#include "base/encoding.h"
#include "base/sha256.h"

namespace casenode::tlog {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// The largest power of two strictly below n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Shifts both right until fn's lowest bit is set or fn is 0 (RFC 9162 2.1.3.2 step).
void ShiftUntilOdd(uint64_t& fn, uint64_t& sn) {
  while (fn != 0 && (fn & 1) == 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Hash LeafHash(std::span<const uint8_t> entry) {
  const uint8_t prefix = kLeafPrefix;
  return Sha256(std::span<const uint8_t>(&prefix, 1), entry);
}

Hash LeafHash(std::string_view entry) { return LeafHash(AsBytes(entry)); }

Hash NodeHash(const Hash& left, const Hash& right) {
  std::array<uint8_t, 65> buf;
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 33);
  return Sha256(std::span<const uint8_t>(buf));
}

Hash EmptyRoot() { return Sha256(std::string_view()); }

Hash RootOf(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  const size_t k = SplitPoint(leaves.size());
  return NodeHash(RootOf(leaves.first(k)), RootOf(leaves.subspan(k)));
}

void Frontier::Append(const Hash& leaf, const std::function<void(NodeId, const Hash&)>& completed) {
  const uint64_t position = size_;
  Hash h = leaf;
  uint8_t level = 0;
  completed(NodeId{0, position}, h);
  // Each set low bit of the old size is a complete subtree the new leaf closes.
  while (((position >> level) & 1) != 0) {
    h = NodeHash(hashes_.back(), h);
    hashes_.pop_back();
    ++level;
    completed(NodeId{level, position >> level}, h);
  }
  hashes_.push_back(h);
  ++size_;
}

Hash Frontier::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Hash r = hashes_.back();
  for (auto it = hashes_.rbegin() + 1; it != hashes_.rend(); ++it) r = NodeHash(*it, r);
  return r;
}

std::string Frontier::Encode() const {
  std::string out;
  AppendU64(out, size_);
  for (const Hash& h : hashes_) out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out;
}

absl::StatusOr<Frontier> Frontier::Decode(std::string_view bytes, std::string_view what) {
  if (bytes.size() < 8) return absl::DataLossError(std::string(what) + " is truncated");
  Frontier f;
  f.size_ = ReadU64(AsBytes(bytes.substr(0, 8)));
  const size_t count = static_cast<size_t>(std::popcount(f.size_));
  if (bytes.size() != 8 + count * 32) return absl::DataLossError(std::string(what) + " has the wrong length");
  f.hashes_.resize(count);
  for (size_t i = 0; i < count; ++i) std::copy_n(bytes.data() + 8 + i * 32, 32, f.hashes_[i].begin());
  return f;
}

absl::StatusOr<Hash> RangeRoot(uint64_t begin, uint64_t end, const NodeReader& read) {
  if (end <= begin) return absl::InvalidArgumentError("empty range");
  const uint64_t n = end - begin;
  if (std::has_single_bit(n)) {
    const auto level = static_cast<uint8_t>(std::countr_zero(n));
    if ((begin & (n - 1)) != 0) return absl::InvalidArgumentError("range is not aligned");
    return read(NodeId{level, begin >> level});
  }
  const uint64_t k = SplitPoint(n);
  absl::StatusOr<Hash> left = RangeRoot(begin, begin + k, read);
  if (!left.ok()) return left.status();
  absl::StatusOr<Hash> right = RangeRoot(begin + k, end, read);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read) {
  if (index >= size) return absl::InvalidArgumentError("leaf index is not below the tree size");
  std::vector<Hash> proof;
  uint64_t begin = 0;
  uint64_t end = size;
  // Walk down from the root; each step adds the sibling range's root.
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling =
        index < begin + k ? RangeRoot(begin + k, end, read) : RangeRoot(begin, begin + k, read);
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
    if (index < begin + k) {
      end = begin + k;
    } else {
      begin += k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t size, const NodeReader& read) {
  if (old_size > size) return absl::InvalidArgumentError("old tree size is above the tree size");
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == size) return proof;
  uint64_t begin = 0;
  uint64_t end = size;
  bool whole_old_tree = true;  // SUBPROOF's b: the range starts at 0 and old_size is its root
  while (old_size != end) {
    const uint64_t k = SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling =
        old_size <= begin + k ? RangeRoot(begin + k, end, read) : RangeRoot(begin, begin + k, read);
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
    if (old_size <= begin + k) {
      end = begin + k;
    } else {
      begin += k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) {
    absl::StatusOr<Hash> node = RangeRoot(begin, end, read);
    if (!node.ok()) return node.status();
    proof.push_back(*node);
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                     const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      ShiftUntilOdd(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t size, const Hash& old_root, const Hash& root,
                       std::span<const Hash> proof) {
  if (old_size > size) return false;
  if (old_size == size) return proof.empty() && old_root == root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  if (path.empty()) return false;
  uint64_t fn = old_size - 1;
  uint64_t sn = size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftUntilOdd(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == root && sn == 0;
}

}  // namespace casenode::tlog
