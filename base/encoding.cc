#include "base/encoding.h"

#include <sodium.h>

#include "base/strings.h"

namespace casenode {

std::string Base64Encode(std::span<const uint8_t> bytes) {
  const size_t len = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // drop the terminating NUL
  return out;
}

absl::StatusOr<Bytes> Base64Decode(std::string_view text, std::string_view what) {
  Bytes out(text.size() / 4 * 3 + 3);
  size_t out_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &out_len,
                        &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError(StrCat(what, ": expected standard base64"));
  }
  out.resize(out_len);
  return out;
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

absl::StatusOr<Bytes> HexDecode(std::string_view text, std::string_view what) {
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
