// Checks for names and staff-written text taken from staff or peers; each
// error is INVALID_ARGUMENT with reason MALFORMED_REQUEST and names the field.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace casenode {

// A vocabulary-like name: [a-z0-9._-]{1,100}, as the policy's names are (the
// policy decides whether it is known).
[[nodiscard]] absl::Status CheckName(std::string_view value, std::string_view field);
// A pseudonymous staff id: [a-z0-9._-]{1,64}.
[[nodiscard]] absl::Status CheckStaffId(std::string_view value, std::string_view field);
// Staff-written text: 1..max_bytes of UTF-8 (or 0 if `optional`), without
// control characters (C0, DEL, C1; newline and tab only where `lines`) or
// bidirectional overrides and marks or line separators, which could hide or
// forge lines on someone else's screen.
enum class TextLines { kAllowed, kNone };
[[nodiscard]] absl::Status CheckText(std::string_view value, std::string_view field, size_t max_bytes,
                                     TextLines lines = TextLines::kAllowed, bool optional = false);

}  // namespace casenode
