#include "base/bsn.h"

#include <sodium.h>

#include "base/reason.h"

namespace casenode {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

Bsn::Bsn(Bsn&& other) noexcept : digits_(other.digits_) { sodium_memzero(other.digits_.data(), kDigits); }

Bsn& Bsn::operator=(Bsn&& other) noexcept {
  if (this != &other) {
    digits_ = other.digits_;
    sodium_memzero(other.digits_.data(), kDigits);
  }
  return *this;
}

Bsn::~Bsn() { sodium_memzero(digits_.data(), kDigits); }

absl::StatusOr<Bsn> ParseBsn(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.size() != Bsn::kDigits) return Error(Reason::kInvalidBsn, "BSN must be exactly 9 digits");
  for (char c : text) {
    if (c < '0' || c > '9') return Error(Reason::kInvalidBsn, "BSN must be exactly 9 digits");
  }
  // Elfproef: weights 9..2 on the first eight digits, -1 on the last.
  int sum = 0;
  bool all_zero = true;
  for (size_t i = 0; i < Bsn::kDigits; ++i) {
    const int d = text[i] - '0';
    sum += (i + 1 < Bsn::kDigits ? static_cast<int>(Bsn::kDigits - i) : -1) * d;
    all_zero = all_zero && d == 0;
  }
  if (all_zero || sum % 11 != 0) return Error(Reason::kInvalidBsn, "BSN failed the elfproef check");
  Bsn bsn;
  for (size_t i = 0; i < Bsn::kDigits; ++i) bsn.digits_[i] = static_cast<uint8_t>(text[i]);
  return bsn;
}

}  // namespace casenode
