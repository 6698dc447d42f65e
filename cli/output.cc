#include "cli/output.h"

#include <google/protobuf/util/json_util.h>

#include "base/reason.h"
#include "node/rpc/status.h"

namespace casenode::cli {

int Fail(const absl::Status& status) {
  // The reason code too, for scripts and for support: "... (INVALID_BSN)".
  const Reason reason = ReasonOf(status);
  std::cerr << "casectl: " << status.message();
  if (reason != Reason::kNone) std::cerr << " (" << ReasonName(reason) << ")";
  std::cerr << "\n";
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied: return kRefused;
    case absl::StatusCode::kInvalidArgument: return kUsage;
    default: return kFailed;
  }
}

int Fail(const grpc::Status& status) {
  // Unavailable without a reason is the transport: no node behind the socket.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && node::GrpcReason(status) == Reason::kNone) {
    std::cerr << "casectl: the node does not answer on its Local socket (is casenode running? see --socket): "
              << status.error_message() << "\n";
    return kFailed;
  }
  return Fail(node::FromGrpcStatus(status));
}

nlohmann::ordered_json ProtoJson(const google::protobuf::Message& message, bool every_field) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = every_field;
  (void)google::protobuf::util::MessageToJsonString(message, &out, opts);
  return nlohmann::ordered_json::parse(out);
}

}  // namespace casenode::cli
