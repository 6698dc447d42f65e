#include "base/encoding.h"

#include <sodium.h>

#include "base/strings.h"

namespace casenode {

namespace {

std::string Encode(std::span<const uint8_t> bytes, int variant) {
  const size_t len = sodium_base64_encoded_len(bytes.size(), variant);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, bytes.data(), bytes.size(), variant);
  out.resize(len - 1);  // drop the terminating NUL
  return out;
}

absl::StatusOr<Bytes> Decode(std::string_view text, std::string_view what, int variant, std::string_view name) {
  Bytes out(text.size() / 4 * 3 + 3);
  size_t out_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &out_len, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError(StrCat(what, ": expected ", name));
  }
  out.resize(out_len);
  // One encoding per value: libsodium ignores the unused bits of the last
  // character, so re-encode and compare (what is signed or compared as text
  // must not have several spellings).
  if (Encode(out, variant) != text) return absl::InvalidArgumentError(StrCat(what, ": expected canonical ", name));
  return out;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) { return Encode(bytes, sodium_base64_VARIANT_ORIGINAL); }

absl::StatusOr<Bytes> Base64Decode(std::string_view text, std::string_view what) {
  return Decode(text, what, sodium_base64_VARIANT_ORIGINAL, "standard base64");
}

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  return Encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

absl::StatusOr<Bytes> Base64UrlDecode(std::string_view text, std::string_view what) {
  return Decode(text, what, sodium_base64_VARIANT_URLSAFE_NO_PADDING, "base64url");
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

bool IsLowerHex(std::string_view text, size_t digits) {
  if (text.size() != digits) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void AppendU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint32_t ReadU32(std::span<const uint8_t> in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | in[i];
  return v;
}

uint64_t ReadU64(std::span<const uint8_t> in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

absl::StatusOr<Bytes> HexDecode(std::string_view text, std::string_view what) {
  if (text.empty()) return Bytes{};  // libsodium must not get a null output buffer
  Bytes out(text.size() / 2);
  size_t out_len = 0;
  const char* end = nullptr;
  if (text.size() % 2 != 0 ||
      sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &out_len, &end) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError(StrCat(what, ": expected lowercase hex"));
  }
  out.resize(out_len);
  return out;
}

}  // namespace casenode
