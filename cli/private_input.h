// Reading personal data for casectl: never from the command line (ps and
// shell history show arguments), but from standard input, with no echo on a
// terminal, or from a file named by an option. Bounded; the caller wipes what
// it got (sodium_memzero) once it is sent.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace casenode::cli {

// One line of standard input (without its newline), at most `max_bytes`;
// `prompt` goes to stderr first if stdin is a terminal, and echo is off.
// `what` names the value in errors.
[[nodiscard]] absl::StatusOr<std::string> ReadPrivateLine(std::string_view what, std::string_view prompt,
                                                          size_t max_bytes);
// The whole of `file`, at most `max_bytes` (errors name `option`).
[[nodiscard]] absl::StatusOr<std::string> ReadPrivateFile(std::string_view option, const std::string& file,
                                                          size_t max_bytes);
// A BSN's text from --bsn-file `file` if given, else a line of standard input,
// checked (9 digits, elfproef) so a mistyped one makes no call; INVALID_BSN
// otherwise, without repeating it.
[[nodiscard]] absl::StatusOr<std::string> ReadBsnText(const std::string& file);

}  // namespace casenode::cli
