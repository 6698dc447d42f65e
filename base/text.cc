#include "base/text.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/reason.h"
#include "base/strings.h"

namespace casenode {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsName(std::string_view value, size_t max) {
  return !value.empty() && value.size() <= max && std::all_of(value.begin(), value.end(), IsNameChar);
}

}  // namespace

absl::Status CheckName(std::string_view value, std::string_view field) {
  if (!IsName(value, 100)) {
    return Error(Reason::kMalformedRequest, StrCat(field, ": expected a name from the policy ([a-z0-9._-], 1-100)"));
  }
  return absl::OkStatus();
}

absl::Status CheckStaffId(std::string_view value, std::string_view field) {
  if (!IsName(value, 64)) {
    return Error(Reason::kMalformedRequest, StrCat(field, ": expected a pseudonymous staff id ([a-z0-9._-], 1-64)"));
  }
  return absl::OkStatus();
}

absl::Status CheckText(std::string_view value, std::string_view field, size_t max_bytes, TextLines lines,
                       bool optional) {
  if ((value.empty() && !optional) || value.size() > max_bytes) {
    return Error(Reason::kMalformedRequest,
                 StrCat(field, optional ? ": at most " : ": required, at most ", max_bytes, " bytes"));
  }
  try {  // nlohmann's strict serialiser refuses anything that is not UTF-8
    (void)nlohmann::json(value).dump();
  } catch (const nlohmann::json::exception&) {
    return Error(Reason::kMalformedRequest, StrCat(field, ": not valid UTF-8"));
  }
  const auto bad = Error(Reason::kMalformedRequest, StrCat(field, ": control characters are not allowed"));
  const bool multiline = lines == TextLines::kAllowed;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f) return bad;
    const auto next = i + 1 < value.size() ? static_cast<unsigned char>(value[i + 1]) : 0;
    const auto third = i + 2 < value.size() ? static_cast<unsigned char>(value[i + 2]) : 0;
    if (c == 0xc2 && next >= 0x80 && next <= 0x9f) return bad;                      // C1: U+0080..U+009F
    if (c == 0xe2 && next == 0x80 && third >= 0xaa && third <= 0xae) return bad;    // U+202A..U+202E
    if (c == 0xe2 && next == 0x81 && third >= 0xa6 && third <= 0xa9) return bad;    // U+2066..U+2069
    if (c == 0xe2 && next == 0x80 && (third == 0x8e || third == 0x8f)) return bad;  // LRM, RLM
    if (c == 0xe2 && next == 0x80 && (third == 0xa8 || third == 0xa9)) return bad;  // line, paragraph separator
    if (c == 0xd8 && next == 0x9c) return bad;                                       // U+061C ALM
  }
  return absl::OkStatus();
}

}  // namespace casenode
