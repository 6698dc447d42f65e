#include <catch2/catch.hpp>

#include <string>

#include "base/encoding.h"
#include "base/time.h"

using namespace casenode;

TEST_CASE("base64 round-trips and rejects bad input naming the field", "[base]") {
  const Bytes b{0, 1, 2, 250, 251, 252, 253};
  REQUIRE(*Base64Decode(Base64Encode(b), "x") == b);
  auto bad = Base64Decode("not base64!", "operator.pub");
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(bad.status().message().find("operator.pub") != std::string::npos);
  // One spelling per value. libsodium decodes some non-ASCII bytes as if they
  // were base64 digits; found by fuzzing notes (a signature line that formats
  // back differently from how it was read).
  const std::string found =
      "AQIDBADBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk\xca\xafzw9Pj8=";
  auto other = Base64Decode(found, "note signature");
  REQUIRE_FALSE(other.ok());
  REQUIRE(std::string(other.status().message()).starts_with("note signature: expected "));
}

// RFC 4648 §10 test vectors, in the URL alphabet without padding (RFC 7515 appendix C).
TEST_CASE("base64url round-trips without padding and has one spelling per value", "[base]") {
  const std::string foobar = "foobar";
  for (size_t n = 0; n <= foobar.size(); ++n) {
    const Bytes b(foobar.begin(), foobar.begin() + static_cast<long>(n));
    const std::string want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    CHECK(Base64UrlEncode(b) == want[n]);
    CHECK(*Base64UrlDecode(want[n], "x") == b);
  }
  const Bytes high{0xfb, 0xff};
  CHECK(Base64UrlEncode(high) == "-_8");
  for (const std::string bad : {"Zg==", "+/8", "Zh", "Z"}) {  // padding, the standard alphabet, unused bits set, too short
    INFO(bad);
    auto r = Base64UrlDecode(bad, "id_token");
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.status().message()).starts_with("id_token: expected "));
  }
}

TEST_CASE("hex round-trips and rejects odd length", "[base]") {
  const Bytes b{0xde, 0xad, 0xbe, 0xef};
  REQUIRE(HexEncode(b) == "deadbeef");
  REQUIRE(*HexDecode("deadbeef", "x") == b);
  REQUIRE_FALSE(HexDecode("abc", "x").ok());
  REQUIRE(HexDecode("", "x").ok());
  REQUIRE(HexDecode("", "x")->empty());
}

TEST_CASE("RFC 3339 times round-trip and malformed ones are refused", "[base]") {
  auto t = ParseRfc3339("2026-11-28T14:00:00Z", "t");
  REQUIRE(t.ok());
  REQUIRE(t->time_since_epoch().count() == 1795874400);
  REQUIRE(FormatRfc3339(*t) == "2026-11-28T14:00:00Z");
  REQUIRE_FALSE(ParseRfc3339("2026-11-28 14:00:00", "t").ok());
  REQUIRE_FALSE(ParseRfc3339("2026-11-28T14:00:00Zjunk", "t").ok());
}
