// Reading personal data for casectl: never from the command line (ps and
// shell history show arguments), but from standard input, with no echo on a
// terminal, or from a file named by an option. Bounded, and held as
// PrivateText, which wipes itself; a request's copy is wiped by WipeOnExit.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace casenode::cli {

// Text that is personal data (a BSN, a title, a contact point, case text):
// wiped (sodium_memzero over its whole buffer) when destroyed or moved from.
// Move-only.
class PrivateText {
 public:
  PrivateText() = default;
  // Takes `text` and wipes what the move leaves behind in it.
  explicit PrivateText(std::string&& text);
  PrivateText(PrivateText&& other) noexcept;
  PrivateText& operator=(PrivateText&& other) noexcept;
  PrivateText(const PrivateText&) = delete;
  PrivateText& operator=(const PrivateText&) = delete;
  ~PrivateText();

  const std::string& str() const { return text_; }
  std::string& mutable_str() { return text_; }

 private:
  std::string text_;
};

// Wipes `*field` when it leaves scope: the copy of private text a request
// message holds (req.mutable_bsn()), once the call is done.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string* field) : field_(field) {}
  ~WipeOnExit();
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string* field_;
};

// One line of standard input (without its newline), at most `max_bytes`;
// `prompt` goes to stderr first if stdin is a terminal, and echo is off.
// `what` names the value in errors.
[[nodiscard]] absl::StatusOr<PrivateText> ReadPrivateLine(std::string_view what, std::string_view prompt,
                                                          size_t max_bytes);
// The whole of `file`, at most `max_bytes` (errors name `option`).
[[nodiscard]] absl::StatusOr<PrivateText> ReadPrivateFile(std::string_view option, const std::string& file,
                                                          size_t max_bytes);
// A BSN's text from --bsn-file `file` if given, else a line of standard input,
// checked (9 digits, elfproef) so a mistyped one makes no call; INVALID_BSN
// otherwise, without repeating it.
[[nodiscard]] absl::StatusOr<PrivateText> ReadBsnText(const std::string& file);

}  // namespace casenode::cli
