// BSN validation: 9 digits and the elfproef, before anything else; errors
// never echo the number.
#include "base/bsn.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "base/reason.h"

using namespace casenode;
using namespace std::literals;

namespace {

std::string Digits(const Bsn& bsn) {
  const auto d = bsn.CleartextDigits();
  return std::string(d.begin(), d.end());
}

}  // namespace

TEST_CASE("valid BSNs parse, surrounding whitespace and a trailing newline trimmed", "[bsn]") {
  for (const char* text : {"111222333", "123456782", "123456782\n", "  111222333\r\n", "\t123456782 "}) {
    auto bsn = ParseBsn(text);
    REQUIRE(bsn.ok());
    const std::string digits = Digits(*bsn);
    REQUIRE((digits == "111222333" || digits == "123456782"));
  }
}

TEST_CASE("a BSN of the wrong length is refused as not 9 digits", "[bsn]") {
  for (const char* text : {"", "\n", "12345678", "1234567820", "0123456782"}) {
    auto bsn = ParseBsn(text);
    REQUIRE(bsn.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(ReasonOf(bsn.status()) == Reason::kInvalidBsn);
    REQUIRE(bsn.status().message() == "BSN must be exactly 9 digits");
  }
}

TEST_CASE("a BSN with a non-digit is refused as not 9 digits", "[bsn]") {
  for (const std::string_view text :
       {"12345678a"sv, "1234 6782"sv, "+23456782"sv, "12345678\0"sv, "\uff1123456782"sv}) {
    auto bsn = ParseBsn(text);
    REQUIRE(ReasonOf(bsn.status()) == Reason::kInvalidBsn);
    REQUIRE(bsn.status().message() == "BSN must be exactly 9 digits");
  }
}

TEST_CASE("a BSN that fails the elfproef, or is all zeros, is refused", "[bsn]") {
  for (const char* text : {"123456789", "111222334", "000000000", "999999999"}) {
    auto bsn = ParseBsn(text);
    REQUIRE(bsn.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(ReasonOf(bsn.status()) == Reason::kInvalidBsn);
    REQUIRE(bsn.status().message() == "BSN failed the elfproef check");
  }
}

TEST_CASE("BSN error messages never contain the digits given", "[bsn]") {
  for (const std::string text : {"123456789", "12345678", "1234567890", "12345678a", "987654321"}) {
    auto bsn = ParseBsn(text);
    REQUIRE_FALSE(bsn.ok());
    const std::string message(bsn.status().message());
    REQUIRE(message.find(text) == std::string::npos);
    REQUIRE(message.find(text.substr(0, 4)) == std::string::npos);
    REQUIRE(bsn.status().ToString().find(text.substr(0, 4)) == std::string::npos);
  }
}

TEST_CASE("a moved-from BSN holds no digits", "[bsn]") {
  auto bsn = ParseBsn("123456782");
  REQUIRE(bsn.ok());
  Bsn moved = *std::move(bsn);
  REQUIRE(Digits(moved) == "123456782");
  REQUIRE(Digits(*bsn) == std::string(9, '\0'));
}
