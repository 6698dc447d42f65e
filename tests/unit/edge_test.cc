// Unit: the edge (node/edge/requests.h) against the table of bad requests.
// Every good request passes; every bad row is refused with its reason, the
// error names the field first, and no refusal echoes a BSN or a name.
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <set>

#include "node/edge/requests.h"
#include "tests/support/bad_requests.h"

using namespace casenode;
using casenode::node::edge::Known;
using Message = google::protobuf::Message;

namespace {

using Check = std::function<absl::Status(const Message&, const Known&)>;

template <class Req>
std::pair<std::string, Check> Entry() {
  return {Req::descriptor()->full_name(), [](const Message& m, const Known& known) -> absl::Status {
            const Req& r = static_cast<const Req&>(m);
            if constexpr (requires { node::edge::Check(r, known); }) {
              return node::edge::Check(r, known);
            } else {
              return node::edge::Check(r);
            }
          }};
}

const std::map<std::string, Check>& Checks() {
  static const std::map<std::string, Check> checks = {Entry<v1::DeclareGapRequest>(),
                                                      Entry<v1::DerivePseudonymRequest>(),
                                                      Entry<v1::RegisterSignalRequest>(),
                                                      Entry<v1::CheckSignalRequest>(),
                                                      Entry<v1::WithdrawSignalRequest>(),
                                                      Entry<v1::PingPeerRequest>(),
                                                      Entry<v1::BackupRequest>(),
                                                      Entry<v1::ConsentRecordRequest>(),
                                                      Entry<v1::ConsentRevokeRequest>(),
                                                      Entry<v1::ConsentConfirmRequest>(),
                                                      Entry<v1::ConsentListRequest>(),
                                                      Entry<v1::ConsentShowRequest>(),
                                                      Entry<v1::ConsentVerifyRequest>(),
                                                      Entry<v1::AuditVerifyRequest>(),
                                                      Entry<v1::AuditReconcileRequest>(),
                                                      Entry<v1::AuditInzageRequest>(),
                                                      Entry<v1::ConveneCaseRequest>(),
                                                      Entry<v1::AnswerCaseRequest>(),
                                                      Entry<v1::ContributeCaseRequest>(),
                                                      Entry<v1::ShowCaseRequest>(),
                                                      Entry<v1::SetActionRequest>(),
                                                      Entry<v1::CloseCaseLocalRequest>(),
                                                      Entry<v1::PingRequest>(),
                                                      Entry<v1::ConsentStatusRequest>(),
                                                      Entry<v1::EvaluatePseudonymRequest>(),
                                                      Entry<v1::LookupSignalRequest>(),
                                                      Entry<v1::NotifySignalRequest>(),
                                                      Entry<v1::AuditCheckpointRequest>(),
                                                      Entry<v1::ReadAuditRequest>(),
                                                      Entry<v1::CosignRequest>(),
                                                      Entry<v1::ReportAlarmRequest>(),
                                                      Entry<v1::InviteToCaseRequest>(),
                                                      Entry<v1::AnswerCaseInvitationRequest>(),
                                                      Entry<v1::ContributeToCaseRequest>(),
                                                      Entry<v1::ReadCaseRequest>(),
                                                      Entry<v1::SetCaseActionRequest>(),
                                                      Entry<v1::CloseCaseRequest>(),
                                                      Entry<v1::DestroyCaseRequest>()};
  return checks;
}

// The shipped network policy and the five organisations of the test network, seen from gemeente.
Known TestNetwork() {
  auto policy = policy::Policy::Load(std::string(CASENODE_SOURCE_DIR) + "/policy/network");
  REQUIRE(policy.ok());
  auto manifest = std::make_shared<network::Manifest>();
  const std::pair<const char*, v1::Role> orgs[] = {{"school", v1::ROLE_SCHOOL},
                                                   {"jeugdhulp", v1::ROLE_JEUGDHULP},
                                                   {"politie", v1::ROLE_POLITIE},
                                                   {"gemeente", v1::ROLE_GEMEENTE},
                                                   {"auditor", v1::ROLE_AUDITOR}};
  for (const auto& [org, role] : orgs) {
    network::ManifestNode n;
    n.org = org;
    n.role = role;
    manifest->nodes.push_back(n);
  }
  return Known{*policy, manifest, "gemeente",
               std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
}

}  // namespace

TEST_CASE("every Local and Peer method whose request has fields has a check at the edge and a row in the table",
          "[edge]") {
  const auto good = testing::GoodRequests();
  std::set<std::string> in_table;
  for (const auto& request : good) in_table.insert(request->GetDescriptor()->full_name());
  int methods = 0;
  for (const char* name : {"casenode.v1.Peer", "casenode.v1.LocalNode", "casenode.v1.LocalKeys",
                           "casenode.v1.LocalPolicy", "casenode.v1.LocalPseudonyms", "casenode.v1.LocalSignals",
                           "casenode.v1.LocalConsent", "casenode.v1.LocalAudit", "casenode.v1.LocalCases"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    REQUIRE(service != nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::Descriptor* input = service->method(i)->input_type();
      INFO(service->method(i)->full_name());
      ++methods;
      if (input->field_count() == 0) continue;  // nothing to check
      CHECK(Checks().count(input->full_name()) == 1);
      CHECK(in_table.count(input->full_name()) == 1);
    }
  }
  CHECK(methods == 47);
}

TEST_CASE("every good request of the table passes the edge", "[edge]") {
  const Known known = TestNetwork();
  const auto good = testing::GoodRequests();
  CHECK(good.size() == Checks().size());
  for (const auto& request : good) {
    const std::string type = request->GetDescriptor()->full_name();
    INFO(type);
    REQUIRE(Checks().count(type) == 1);
    const absl::Status s = Checks().at(type)(*request, known);
    INFO(s.message());
    CHECK(s.ok());
  }
}

TEST_CASE("every bad value is refused at the edge with its reason, naming the field and echoing nothing", "[edge]") {
  const Known known = TestNetwork();
  const auto rows = testing::BadRequests();
  for (const testing::BadRequest& row : rows) {
    INFO(row.what);
    const absl::Status s = Checks().at(row.request->GetDescriptor()->full_name())(*row.request, known);
    const std::string message(s.message());
    INFO(message);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonName(ReasonOf(s)) == ReasonName(row.reason));
    CHECK(message.starts_with(row.field + ":"));
    if (!row.says.empty()) CHECK(message.find(row.says) != std::string::npos);
    CHECK(message.find(testing::kCanaryBsn) == std::string::npos);
    CHECK(message.find(testing::kCanaryText) == std::string::npos);
    CHECK(s.message().size() < 300);
  }
  std::printf("edge: %zu bad values over %zu request types refused\n", rows.size(), Checks().size());
}

TEST_CASE("a ReadAudit that asks for a consistency proof alone (count 0) passes the edge", "[edge]") {
  v1::ReadAuditRequest r;
  r.set_purpose("verantwoording");
  r.set_tree_size(5);
  r.set_consistency(true);
  r.set_consistency_from(3);
  REQUIRE(node::edge::Check(r).ok());
  r.set_consistency(false);
  REQUIRE(ReasonOf(node::edge::Check(r)) == Reason::kMalformedRequest);
}
