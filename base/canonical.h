// CanonicalWriter: the fixed byte encoding of anything signed or hashed
// (consent receipts, policy requests). Never a re-serialised protobuf, which
// is not canonical.
//
//   string/bytes: u32be length || bytes
//   u64:          8 bytes big-endian
//   list:         u32be count || each element as a string, sorted bytewise
//
// Every encoding starts with a domain string naming the format and version.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace casenode {

class CanonicalWriter {
 public:
  explicit CanonicalWriter(std::string_view domain) {
    out_.reserve(256);  // a policy request or a receipt: one allocation
    String(domain);
  }

  CanonicalWriter& String(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  CanonicalWriter& Bytes(std::span<const uint8_t> b) {
    return String(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  CanonicalWriter& U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
    out_.append(b, sizeof b);
    return *this;
  }
  CanonicalWriter& Bool(bool b) { return U64(b ? 1 : 0); }
  // Sorted, so the order a client listed items in does not change the bytes.
  CanonicalWriter& List(std::vector<std::string> items) {
    std::sort(items.begin(), items.end());
    U32(static_cast<uint32_t>(items.size()));
    for (const auto& i : items) String(i);
    return *this;
  }

  const std::string& bytes() const& { return out_; }
  std::string bytes() && { return std::move(out_); }

 private:
  void U32(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out_.append(b, sizeof b);
  }
  std::string out_;
};

// Reads what a CanonicalWriter wrote, bounded by the input: every read fails
// (nullopt) rather than run past the end. Callers check that re-encoding
// what they read gives the same bytes, which also rejects unsorted lists.
class CanonicalReader {
 public:
  explicit CanonicalReader(std::string_view bytes) : in_(bytes) {}

  std::optional<std::string_view> String() {
    const std::optional<uint32_t> n = U32();
    if (!n || *n > in_.size()) return std::nullopt;
    std::string_view s = in_.substr(0, *n);
    in_.remove_prefix(*n);
    return s;
  }
  std::optional<uint64_t> U64() {
    if (in_.size() < 8) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in_[static_cast<size_t>(i)]);
    in_.remove_prefix(8);
    return v;
  }
  std::optional<bool> Bool() {
    const std::optional<uint64_t> v = U64();
    if (!v || *v > 1) return std::nullopt;
    return *v == 1;
  }
  // At most `max_items` items.
  std::optional<std::vector<std::string>> List(size_t max_items) {
    const std::optional<uint32_t> n = U32();
    if (!n || *n > max_items) return std::nullopt;
    std::vector<std::string> out;
    for (uint32_t i = 0; i < *n; ++i) {
      std::optional<std::string_view> s = String();
      if (!s) return std::nullopt;
      out.emplace_back(*s);
    }
    return out;
  }
  bool AtEnd() const { return in_.empty(); }

 private:
  std::optional<uint32_t> U32() {
    if (in_.size() < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in_[static_cast<size_t>(i)]);
    in_.remove_prefix(4);
    return v;
  }
  std::string_view in_;
};

}  // namespace casenode
