// The table of bad requests: for every Local and Peer request message type, a
// well-formed base request and each bad value a field can take, with the
// refusal it must get (code, reason, the field named). The unit test checks
// the table against node/edge directly; the integration test sends every row
// to a real node and checks that nothing changed.
//
// Bases are written for the shipped network policy and the five-node
// LocalNetwork, from gemeente's side: Local requests go to gemeente, Peer
// requests come from school.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <vector>

#include "base/reason.h"

namespace casenode::testing {

struct BadRequest {
  std::string what;   // the row, for messages: "RegisterSignalRequest.contact: a newline"
  std::string field;  // the error message starts with this field's name
  Reason reason = Reason::kMalformedRequest;
  std::shared_ptr<const google::protobuf::Message> request;
  std::string says;  // if set, the message contains it (which check refused)
  // Invalid UTF-8 in a proto3 string field: the node's protobuf runtime
  // refuses to parse it, before any handler (INTERNAL, no reason code). The
  // edge refuses it too, for callers inside the process.
  bool refused_by_protobuf = false;
};

// One well-formed request of each Local and Peer request type that has fields.
std::vector<std::shared_ptr<const google::protobuf::Message>> GoodRequests();
// Every bad row, each one field of a good request changed.
std::vector<BadRequest> BadRequests();

// Values no refusal may echo (a BSN, a name, case content).
inline constexpr const char* kCanaryBsn = "507529171";  // a BSN's shape, fails the 11-test
inline constexpr const char* kCanaryText = "Canary Jansen";

}  // namespace casenode::testing
