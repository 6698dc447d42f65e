// How casectl answers: data on stdout (text or JSON), messages on stderr, and
// the exit codes users script against.
#pragma once

#include <grpcpp/support/status.h>

#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace casenode::cli {

enum ExitCode : int { kOk = 0, kFailed = 1, kUsage = 2, kRefused = 3 };

struct Globals {
  std::string socket;
  std::string output = "text";  // "text" or "json" (validated by the parser)
  int timeout_ms = 10000;
  bool json() const { return output == "json"; }
};

// Prints "casectl: <message>" on stderr and returns the exit code for `status`:
// 3 for PERMISSION_DENIED (policy or consent), 2 for INVALID_ARGUMENT, else 1.
int Fail(const absl::Status& status);
int Fail(const grpc::Status& status);

inline void PrintJson(const nlohmann::ordered_json& j) { std::cout << j.dump(2) << "\n"; }

// A protobuf message as JSON, with its proto field names; `every_field` also
// gives the fields left at their defaults.
nlohmann::ordered_json ProtoJson(const google::protobuf::Message& message, bool every_field = false);

}  // namespace casenode::cli
