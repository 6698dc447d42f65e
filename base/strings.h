// StrCat for std types. Debian's Abseil is built with its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so StrCat does
// not take std::string_view; this one does, and integers too.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace casenode {
namespace internal {

inline void AppendPiece(std::string& out, std::string_view s) { out.append(s); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void AppendPiece(std::string& out, T v) {
  out.append(std::to_string(v));
}
// An enum would otherwise convert to char and print a control byte: name it
// (its _Name or a Name function) instead.
template <typename T>
  requires std::is_enum_v<T>
void AppendPiece(std::string& out, T v) = delete;

}  // namespace internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (internal::AppendPiece(out, args), ...);
  return out;
}

// An untrusted value as it may appear in an error message: control and
// non-ASCII bytes escaped, long values cut, so a malicious file cannot inject
// lines into the log that reports it. Never pass secrets or personal data.
inline std::string Printable(std::string_view s) {
  constexpr size_t kMax = 70;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c <= 0x7e && c != '\\' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// Removes `prefix` from the front of *s and returns true, if *s starts with it.
inline bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (!s->starts_with(prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

}  // namespace casenode
