// bench case_read: a member reads a casusoverleg at its convener (Peer
// ReadCase: gate, membership from the case index, the case's secrets, one
// policy decision per distinct category and basis, each logged synced, the
// contributions and agreements read from the encrypted store, the disclosure
// logged synced) vs a bare gRPC service handing back the same answer's bytes
// over the same mTLS. A real network (provision::CreateNetwork, nodes in this
// process); the case is convened, accepted and filled through the nodes'
// Local APIs. Contributions cycle through four categories (onderwijs,
// contact, signaal on public_task; zorg on vital_interest), so each read
// decides five times (the call, then each category). 4 callers.
//   case_read       20 contributions (target ratio >= 0.5)
//   case_read_200   200 contributions
//   case_read_2000  2,000 contributions: the growth should be linear at worst
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <cstdio>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "echo.grpc.pb.h"
#include "node/rpc/runtime.h"
#include "node/rpc/tls.h"
#include "tests/bench/bench_network.h"
#include "tests/bench/harness.h"

using namespace casenode;
using bench::Must;

namespace {

void Fail(const std::string& what) {
  std::fprintf(stderr, "bench case_read: %s\n", what.c_str());
  std::exit(1);
}

constexpr char kBsn[] = "123456782";  // passes the elfproef

class CaseEcho final : public bench::CaseEcho::Service {
 public:
  explicit CaseEcho(const v1::ReadCaseResponse& answer) : answer_(answer) {}
  grpc::Status Read(grpc::ServerContext*, const v1::ReadCaseRequest*, v1::ReadCaseResponse* response) override {
    *response = answer_;
    return grpc::Status::OK;
  }

 private:
  const v1::ReadCaseResponse& answer_;
};

template <typename Stub, typename Request, typename Response>
void Local(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
           const Request& req, Response* resp, const char* what) {
  grpc::ClientContext ctx;
  const grpc::Status s = (stub.*method)(&ctx, req, resp);
  if (!s.ok()) Fail(StrCat(what, ": ", s.error_message()));
}

// A case convened by the gemeente, accepted by jeugdhulp, with `n` contributions.
std::string MakeCase(v1::LocalCases::Stub& gemeente, v1::LocalCases::Stub& jeugdhulp, int n) {
  v1::ConveneCaseRequest convene;
  convene.set_bsn(kBsn);
  convene.set_purpose("casusoverleg");
  convene.set_legal_basis("public_task");
  convene.set_title("bench");
  convene.set_regisseur("rg-01");
  convene.add_invite("jeugdhulp");
  v1::ConveneCaseResponse convened;
  Local(gemeente, &v1::LocalCases::Stub::Convene, convene, &convened, "convene");
  for (int tries = 0;; ++tries) {  // the invitation is delivered by the convener's keeper
    v1::ListCasesResponse list;
    Local(jeugdhulp, &v1::LocalCases::Stub::List, v1::ListCasesRequest(), &list, "list");
    bool invited = false;
    for (const auto& c : list.cases()) invited |= c.index().case_id() == convened.case_id();
    if (invited) break;
    if (tries > 1000) Fail("the invitation did not arrive");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  v1::AnswerCaseRequest accept;
  accept.set_case_id(convened.case_id());
  accept.set_accept(true);
  v1::AnswerCaseResponse accepted;
  Local(jeugdhulp, &v1::LocalCases::Stub::Answer, accept, &accepted, "accept");
  static const char* const kTerms[][2] = {
      {"onderwijs", "public_task"}, {"contact", "public_task"}, {"signaal", "public_task"}, {"zorg", "vital_interest"}};
  for (int i = 0; i < n; ++i) {
    v1::ContributeCaseRequest c;
    c.set_case_id(convened.case_id());
    c.set_category(kTerms[i % 4][0]);
    c.set_legal_basis(kTerms[i % 4][1]);
    c.set_text(StrCat("Bijdrage ", i, ": verzuim sinds september, afspraak met ouders gemaakt, zorgen over thuis."));
    v1::ContributeCaseResponse r;
    Local(gemeente, &v1::LocalCases::Stub::Contribute, c, &r, "contribute");
  }
  return convened.case_id();
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (!node::PrepareRpcRuntime().ok()) return 1;
  SetLogLevel("warn");
  const auto duration = std::chrono::milliseconds(argc > 1 ? std::atoi(argv[1]) : 1500);
  constexpr int kCallers = 4;

  auto net = Must(bench::InProcessNetwork::Start({"gemeente:gemeente", "jeugdhulp:jeugdhulp", "school:school"}),
                  "network");
  auto gemeente = bench::LocalStub<v1::LocalCases>(net->created("gemeente").socket_path);
  auto jeugdhulp = bench::LocalStub<v1::LocalCases>(net->created("jeugdhulp").socket_path);
  const auto gemeente_tls = Must(bench::LoadTls(net->config("gemeente")), "gemeente TLS");
  const auto jeugdhulp_tls = Must(bench::LoadTls(net->config("jeugdhulp")), "jeugdhulp TLS");
  const network::ManifestNode convener = net->Entry("gemeente");
  // jeugdhulp's own certificate, pinned to the gemeente's: the call a member's node makes.
  auto creds = node::PeerChannelCredentials(*jeugdhulp_tls, convener);
  auto peer = v1::Peer::NewStub(node::PeerChannel(convener, creds, 16 << 20));

  for (int n : {20, 200, 2000}) {
    const std::string id = MakeCase(*gemeente, *jeugdhulp, n);
    v1::ReadCaseRequest req;
    req.set_case_id(id);
    v1::ReadCaseResponse answer;
    {
      grpc::ClientContext ctx;
      const grpc::Status s = peer->ReadCase(&ctx, req, &answer);
      if (!s.ok()) Fail("ReadCase: " + s.error_message());
      if (answer.contributions_size() != n || answer.withheld_size() != 0) Fail("not every contribution was read");
    }
    // The baseline: the same answer's bytes, from a bare service with the
    // gemeente's certificate, to the same client credentials.
    CaseEcho echo(answer);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", node::PeerServerCredentials(*gemeente_tls), &port);
    node::ApplyServerOptions(builder);
    builder.RegisterService(&echo);
    auto server = builder.BuildAndStart();
    network::ManifestNode echo_target = convener;
    echo_target.endpoint = StrCat("127.0.0.1:", port);
    auto bare = bench::CaseEcho::NewStub(node::PeerChannel(echo_target, creds, 16 << 20));

    auto read = [&] {
      grpc::ClientContext ctx;
      v1::ReadCaseResponse r;
      return peer->ReadCase(&ctx, req, &r).ok() && r.contributions_size() == n;
    };
    auto baseline = [&] {
      grpc::ClientContext ctx;
      v1::ReadCaseResponse r;
      return bare->Read(&ctx, req, &r).ok() && r.contributions_size() == n;
    };
    for (int i = 0; i < 20; ++i) {
      if (!read() || !baseline()) Fail("warm-up call failed");
    }
    const bench::Comparison c = bench::Compare(3, [&] { return bench::RunConcurrent(kCallers, duration, read); },
                                               [&] { return bench::RunConcurrent(kCallers, duration, baseline); });
    bench::Report(n == 20 ? "case_read" : StrCat("case_read_", n), c,
                  StrCat("contributions=", n, " decisions=5 answer_bytes=", answer.ByteSizeLong(), " callers=",
                         kCallers));
    server->Shutdown();
  }
  return 0;
}
