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
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace casenode {

class CanonicalWriter {
 public:
  explicit CanonicalWriter(std::string_view domain) { String(domain); }

  CanonicalWriter& String(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  CanonicalWriter& Bytes(std::span<const uint8_t> b) {
    return String(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  CanonicalWriter& U64(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(v >> shift));
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

  const std::string& bytes() const { return out_; }

 private:
  void U32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(v >> shift));
  }
  std::string out_;
};

}  // namespace casenode
