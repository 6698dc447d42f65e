#include <catch2/catch.hpp>

#include "base/encoding.h"
#include "base/time.h"

using namespace casenode;

TEST_CASE("base64 round-trips and rejects bad input naming the field", "[base]") {
  const Bytes b{0, 1, 2, 250, 251, 252, 253};
  REQUIRE(*Base64Decode(Base64Encode(b), "x") == b);
  auto bad = Base64Decode("not base64!", "operator.pub");
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(bad.status().message().find("operator.pub") != std::string::npos);
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
