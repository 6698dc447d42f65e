// Time as the network writes it: RFC 3339 UTC with second precision
// ("2026-11-28T14:00:00Z"), and an injectable clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace casenode {

using SystemTime = std::chrono::sys_seconds;

std::string FormatRfc3339(SystemTime t);
// Fails with InvalidArgument naming `what` unless `text` is YYYY-MM-DDTHH:MM:SSZ.
[[nodiscard]] absl::StatusOr<SystemTime> ParseRfc3339(std::string_view text, std::string_view what);

// The clock is injected wherever time decides something (expiry, validity),
// so tests can move it. Thread-safe if the function is.
using Clock = std::function<SystemTime()>;
SystemTime SystemNow();

}  // namespace casenode
