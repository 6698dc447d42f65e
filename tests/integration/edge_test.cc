// Integration: the table of bad requests (tests/support/bad_requests.h) sent
// to a real node. Every Local request goes to gemeente's socket and every
// Peer request comes from school's certificate; each bad value must be
// refused with INVALID_ARGUMENT, its reason code and the field named first,
// echo no canary, and change nothing: no policy decision made, no signal,
// notice, case or consent stored.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>

#include "base/file.h"
#include "casenode/v1/local.grpc.pb.h"
#include "casenode/v1/peer.grpc.pb.h"
#include "node/rpc/status.h"
#include "tests/support/bad_requests.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"
#include "tests/support/ports.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using Message = google::protobuf::Message;
using Send = std::function<grpc::Status(const Message&)>;

namespace {

const std::string kEdgeSubjectHex(64, 'e');

// A call of `method` on `stub` taking the request as `Req`.
template <class Stub, class Req, class Resp>
std::pair<std::string, Send> Via(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*)) {
  return {Req::descriptor()->full_name(), [&stub, method](const Message& m) {
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
            Resp resp;
            return (stub.*method)(&ctx, static_cast<const Req&>(m), &resp);
          }};
}

struct Stubs {
  explicit Stubs(const LocalNetwork& net)
      : local(grpc::CreateChannel("unix:" + net.Socket("gemeente"), grpc::InsecureChannelCredentials())),
        node(v1::LocalNode::NewStub(local)),
        pseudonyms(v1::LocalPseudonyms::NewStub(local)),
        signals(v1::LocalSignals::NewStub(local)),
        consent(v1::LocalConsent::NewStub(local)),
        audit(v1::LocalAudit::NewStub(local)),
        cases(v1::LocalCases::NewStub(local)),
        peer(testing::PeerStubAs(net, "gemeente", "school")) {}

  std::map<std::string, Send> Methods() {
    using N = v1::LocalNode::Stub;
    using Co = v1::LocalConsent::Stub;
    using A = v1::LocalAudit::Stub;
    using C = v1::LocalCases::Stub;
    using S = v1::LocalSignals::Stub;
    using P = v1::Peer::Stub;
    return {Via(*node, &N::DeclareGap),
            Via(*node, &N::PingPeer),
            Via(*node, &N::Backup),
            Via(*pseudonyms, &v1::LocalPseudonyms::Stub::Derive),
            Via(*signals, &S::Register),
            Via(*signals, &S::Check),
            Via(*signals, &S::Withdraw),
            Via(*consent, &Co::Record),
            Via(*consent, &Co::Revoke),
            Via(*consent, &Co::Confirm),
            Via(*consent, &Co::List),
            Via(*consent, &Co::Show),
            Via(*consent, &Co::Verify),
            Via(*audit, &A::Verify),
            Via(*audit, &A::Reconcile),
            Via(*audit, &A::Inzage),
            Via(*cases, &C::Convene),
            Via(*cases, &C::Answer),
            Via(*cases, &C::Contribute),
            Via(*cases, &C::Show),
            Via(*cases, &C::SetAction),
            Via(*cases, &C::Close),
            Via(*peer, &P::Ping),
            Via(*peer, &P::ConsentStatus),
            Via(*peer, &P::EvaluatePseudonym),
            Via(*peer, &P::LookupSignal),
            Via(*peer, &P::NotifySignal),
            Via(*peer, &P::AuditCheckpoint),
            Via(*peer, &P::ReadAudit),
            Via(*peer, &P::Cosign),
            Via(*peer, &P::ReportAlarm),
            Via(*peer, &P::InviteToCase),
            Via(*peer, &P::AnswerCaseInvitation),
            Via(*peer, &P::ContributeToCase),
            Via(*peer, &P::ReadCase),
            Via(*peer, &P::SetCaseAction),
            Via(*peer, &P::CloseCase),
            Via(*peer, &P::DestroyCase)};
  }

  // What a refused request must leave as it was: gemeente's signals,
  // notices, cases and consents, as its staff see them.
  std::string Stored() {
    std::string out;
    auto add = [&](grpc::Status s, const Message& m) {
      REQUIRE(s.ok());
      out += m.SerializeAsString();
    };
    {
      grpc::ClientContext ctx;
      v1::ListSignalsResponse r;
      add(signals->List(&ctx, {}, &r), r);
    }
    {
      grpc::ClientContext ctx;
      v1::InboxResponse r;
      add(signals->Inbox(&ctx, {}, &r), r);
    }
    {
      grpc::ClientContext ctx;
      v1::ListCasesResponse r;
      add(cases->List(&ctx, {}, &r), r);
    }
    // The child of the receipt recorded before, and the one the table's receipts name.
    for (const auto& [subject, entries] : {std::pair{std::string(32, '\xee'), 1}, std::pair{std::string(32, 'p'), 0}}) {
      grpc::ClientContext ctx;
      v1::ConsentListRequest req;
      req.set_subject(subject);
      v1::ConsentListResponse r;
      add(consent->List(&ctx, req, &r), r);
      CHECK(r.entries_size() == entries);
    }
    return out;
  }

  std::shared_ptr<grpc::Channel> local;
  std::unique_ptr<v1::LocalNode::Stub> node;
  std::unique_ptr<v1::LocalPseudonyms::Stub> pseudonyms;
  std::unique_ptr<v1::LocalSignals::Stub> signals;
  std::unique_ptr<v1::LocalConsent::Stub> consent;
  std::unique_ptr<v1::LocalAudit::Stub> audit;
  std::unique_ptr<v1::LocalCases::Stub> cases;
  std::unique_ptr<v1::Peer::Stub> peer;
};

// The policy decisions the node has made, from its metrics: a refusal at
// the edge makes none.
double Decisions(httplib::Client& metrics) {
  const auto res = metrics.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  double total = 0;
  const std::string series = "\ncasenode_policy_decisions_total{";
  for (size_t at = res->body.find(series); at != std::string::npos; at = res->body.find(series, at + 1)) {
    const size_t value = res->body.find("} ", at);
    REQUIRE(value != std::string::npos);
    total += std::stod(res->body.substr(value + 2));
  }
  return total;
}

}  // namespace

TEST_CASE(
    "every bad value of every Local and Peer request is refused by a real node, naming the field, and "
    "changes nothing",
    "[integration][edge]") {
  LocalNetwork net;
  auto port = testing::PortBlock::Reserve(1);
  REQUIRE(port.ok());
  const std::string config_path = net.NodeDir("gemeente") + "/casenode.toml";
  REQUIRE(WriteFileAtomic(
              config_path,
              *ReadFile(config_path) + "\n[metrics]\nlisten = \"127.0.0.1:" + std::to_string((*port)->base()) + "\"\n",
              0600)
              .ok());
  // Only gemeente runs: no other node's calls make decisions there meanwhile.
  net.Start("gemeente");
  net.CasectlJson("gemeente", {"consent", "record", "--subject", kEdgeSubjectHex, "--consenter", "parent", "--birth-date",
                               "2016-03-01", "--purpose", "casusoverleg", "--category", "zorg", "--recipient-role",
                               "jeugdhulp", "--recorded-by", "staff-1"});
  httplib::Client metrics("127.0.0.1", (*port)->base());
  metrics.set_connection_timeout(5, 0);
  metrics.set_read_timeout(5, 0);

  Stubs stubs(net);
  const auto methods = stubs.Methods();
  const std::string stored = stubs.Stored();
  const double decisions = Decisions(metrics);
  // A Peer call that passes the edge is decided: the count can move.
  {
    grpc::ClientContext ctx;
    v1::PingResponse pong;
    REQUIRE(stubs.peer->Ping(&ctx, {}, &pong).ok());
  }
  const double after_ping = Decisions(metrics);
  REQUIRE(after_ping == decisions + 1);

  const auto rows = testing::BadRequests();
  int refused = 0, by_protobuf = 0;
  for (const testing::BadRequest& row : rows) {
    INFO(row.what);
    REQUIRE(methods.count(row.request->GetDescriptor()->full_name()) == 1);
    const grpc::Status s = methods.at(row.request->GetDescriptor()->full_name())(*row.request);
    INFO(s.error_message());
    CHECK(s.error_message().find(testing::kCanaryBsn) == std::string::npos);
    CHECK(s.error_message().find(testing::kCanaryText) == std::string::npos);
    if (row.refused_by_protobuf) {
      CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
      ++by_protobuf;
      continue;
    }
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(ReasonName(node::GrpcReason(s)) == ReasonName(row.reason));
    CHECK(s.error_message().starts_with(row.field + ":"));
    if (!row.says.empty()) CHECK(s.error_message().find(row.says) != std::string::npos);
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) ++refused;
  }
  // Nothing changed: no decision, nothing stored, and the node still answers.
  CHECK(Decisions(metrics) == after_ping);
  CHECK(stubs.Stored() == stored);
  CHECK(net.process("gemeente").Running());
  std::printf(
      "edge: %zu bad values sent to a real node over %zu methods: %d refused by the edge with their reason, %d "
      "(invalid UTF-8) by protobuf before it; 0 decisions, 0 writes\n",
      rows.size(), methods.size(), refused, by_protobuf);
  CHECK(refused + by_protobuf == static_cast<int>(rows.size()));
}
