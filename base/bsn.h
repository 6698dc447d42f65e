// Bsn: a validated Dutch citizen service number (burgerservicenummer).
//
// The BSN is the personal number every pseudonym is derived from, so it is
// checked before anything else (DESIGN.md, "Pseudonyms") and then held in a
// type that keeps it out of logs: no operator<<, no conversion to a string,
// move-only, and its bytes are wiped (sodium_memzero) when it goes away.
// Error messages about a BSN never contain its digits.
//
// Thread-compatible: a const Bsn may be read from several threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace casenode {

class Bsn {
 public:
  static constexpr size_t kDigits = 9;

  Bsn(Bsn&& other) noexcept;
  Bsn& operator=(Bsn&& other) noexcept;
  Bsn(const Bsn&) = delete;
  Bsn& operator=(const Bsn&) = delete;
  ~Bsn();

  // WARNING: the personal number itself, as its 9 ASCII digits: the input of
  // the pseudonym OPRF. Never log it or put it in a message.
  std::span<const uint8_t, kDigits> CleartextDigits() const { return std::span<const uint8_t, kDigits>(digits_); }

 private:
  friend absl::StatusOr<Bsn> ParseBsn(std::string_view text);
  Bsn() = default;

  std::array<uint8_t, kDigits> digits_{};
};

// Parses a BSN: exactly 9 ASCII digits once surrounding whitespace is trimmed
// (so a line read from stdin, newline included, parses), that pass the
// elfproef (9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11) and are not all
// zero. Fails with InvalidArgument and reason INVALID_BSN; the message says
// which rule failed and never echoes the input.
[[nodiscard]] absl::StatusOr<Bsn> ParseBsn(std::string_view text);

}  // namespace casenode
