// libFuzzer target: the BSN parser staff input goes through (base/bsn.h).
// Every input must give a BSN or a clean error, and an accepted BSN is nine
// digits that pass the elfproef.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/bsn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bsn = casenode::ParseBsn(text);
  if (!bsn.ok()) return 0;
  // The elfproef over the digits that were accepted.
  int digits[9];
  int n = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (n == 9) std::abort();
      digits[n++] = c - '0';
    }
  }
  if (n != 9) std::abort();
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += (9 - i) * digits[i];
  sum -= digits[8];
  if (sum % 11 != 0) std::abort();
  return 0;
}
