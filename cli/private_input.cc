#include "cli/private_input.h"

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/bsn.h"
#include "base/file.h"
#include "base/reason.h"
#include "base/strings.h"

namespace casenode::cli {
namespace {

// At most this much is read for a BSN: 9 digits and some whitespace.
constexpr size_t kMaxBsnInput = 64;

// Turns the terminal's echo off for its lifetime.
class NoEcho {
 public:
  NoEcho() {
    if (::isatty(STDIN_FILENO) != 1 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~NoEcho() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// Zeroes the whole buffer, also beyond the size (a short string's bytes sit
// in the object itself), then empties it.
void Wipe(std::string& s) {
  sodium_memzero(s.data(), s.capacity());
  s.clear();
}

}  // namespace

PrivateText::PrivateText(std::string&& text) : text_(text) { Wipe(text); }

PrivateText::PrivateText(PrivateText&& other) noexcept : text_(other.text_) { Wipe(other.text_); }

PrivateText& PrivateText::operator=(PrivateText&& other) noexcept {
  if (this != &other) {
    Wipe(text_);
    text_ = other.text_;
    Wipe(other.text_);
  }
  return *this;
}

PrivateText::~PrivateText() { Wipe(text_); }

WipeOnExit::~WipeOnExit() { Wipe(*field_); }

absl::StatusOr<PrivateText> ReadPrivateLine(std::string_view what, std::string_view prompt, size_t max_bytes) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (terminal) std::cerr << prompt << std::flush;
  PrivateText text;
  std::string& line = text.mutable_str();
  line.reserve(max_bytes + 1);  // no reallocation leaves a copy behind
  bool got_any = false;
  {
    NoEcho quiet;
    for (int c; line.size() <= max_bytes && (c = std::getchar()) != EOF;) {
      got_any = true;
      if (c == '\n') break;
      line.push_back(static_cast<char>(c));
    }
  }
  if (terminal) std::cerr << "\n";
  if (!line.empty() && line.back() == '\r') line.pop_back();  // a CRLF line end is a line end
  if (line.size() > max_bytes) {
    return absl::InvalidArgumentError(StrCat(what, " on standard input: longer than ", max_bytes, " bytes"));
  }
  if (!got_any) return absl::InvalidArgumentError(StrCat(what, ": expected a line on standard input"));
  return text;
}

absl::StatusOr<PrivateText> ReadPrivateFile(std::string_view option, const std::string& file, size_t max_bytes) {
  auto read = ReadFile(file);
  if (!read.ok()) return Annotate(option, read.status());
  PrivateText text(std::move(*read));
  std::string& s = text.mutable_str();
  if (s.size() > max_bytes) {
    return absl::InvalidArgumentError(StrCat(option, ": the file is longer than ", max_bytes, " bytes"));
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return text;
}

absl::StatusOr<PrivateText> ReadBsnText(const std::string& file) {
  auto text =
      file.empty() ? ReadPrivateLine("BSN", "BSN: ", kMaxBsnInput) : ReadPrivateFile("--bsn-file", file, kMaxBsnInput);
  if (text.status().code() == absl::StatusCode::kInvalidArgument) return WithReason(text.status(), Reason::kInvalidBsn);
  if (!text.ok()) return text;
  if (absl::Status valid = ParseBsn(text->str()).status(); !valid.ok()) return valid;
  return text;
}

}  // namespace casenode::cli
