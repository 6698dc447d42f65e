#include "base/time.h"

#include <ctime>

#include "base/strings.h"

namespace casenode {

std::string FormatRfc3339(SystemTime t) {
  const std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

absl::StatusOr<SystemTime> ParseRfc3339(std::string_view text, std::string_view what) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (s.size() != 20 || end == nullptr || *end != '\0') {
    return absl::InvalidArgumentError(
        StrCat(what, ": expected RFC 3339 UTC time like 2026-01-31T12:00:00Z"));
  }
  return SystemTime(std::chrono::seconds(timegm(&tm)));
}

SystemTime SystemNow() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace casenode
