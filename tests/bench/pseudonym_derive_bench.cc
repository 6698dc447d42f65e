// bench pseudonym_derive: a school derives a child's network pseudonym end to
// end (casectl -> Local LocalPseudonyms.Derive over the node's Unix socket ->
// the node blinds the BSN, asks t=2 key holders in parallel over mTLS (Peer
// EvaluatePseudonym: gate, policy decision, synced decision record, share
// evaluation with its DLEQ proof), verifies both proofs, combines, unblinds).
// A real network (provision::CreateNetwork: school, jeugdhulp, politie, gemeente;
// three holders, threshold 2) runs in this process on loopback, every node
// loaded from its own casenode.toml.
//
// Baseline: the same round trips done bare — one echo call over a Unix
// socket (the casectl -> node hop) and then t=2 parallel echo calls to two
// bare gRPC servers with the holders' own certificates, from the school's,
// over the same mTLS credentials (PeerServerCredentials / PeerChannelCredentials).
// So the ratio is what the pseudonym work costs on top of its transport.
//
// 4 concurrent callers; everything shares this machine's cores.
// The network policy is a copy of policy/network with its rate limits lifted
// (see CopyPolicyWithoutRateLimits): the holders allow 600 evaluations a
// minute per requesting organisation, which the benchmark passes in a second.
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>

#include "base/log.h"
#include "casenode/v1/local.grpc.pb.h"
#include "node/rpc/runtime.h"
#include "tests/bench/bench_network.h"
#include "tests/bench/harness.h"

using namespace casenode;
using bench::Must;

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (!node::PrepareRpcRuntime().ok()) return 1;  // as casenode does: TLS 1.3 only
  SetLogLevel("warn");
  const int callers = 4;
  const auto duration = std::chrono::milliseconds(argc > 1 ? std::atoi(argv[1]) : 1000);

  auto net = Must(
      bench::InProcessNetwork::Start({"school:school", "jeugdhulp:jeugdhulp", "politie:politie", "gemeente:gemeente"}),
      "network");

  // Ours: what `casectl pseudonym derive` asks of the school's node.
  auto pseudonyms = bench::LocalStub<v1::LocalPseudonyms>(net->created("school").socket_path);
  auto derive = [&] {
    grpc::ClientContext ctx;
    v1::DerivePseudonymRequest req;
    req.set_bsn("123456782");  // passes the elfproef
    req.set_purpose("vroegsignalering");
    req.set_legal_basis("public_task");
    v1::DerivePseudonymResponse resp;
    return pseudonyms->Derive(&ctx, req, &resp).ok() && resp.pseudonym().size() == 32;
  };

  // Baseline: two holders' certificates behind bare echo servers, called with
  // the school's; and a bare echo server on a Unix socket.
  const auto school_tls = Must(bench::LoadTls(net->config("school")), "school TLS");
  std::vector<bench::EchoPeer> holders;
  for (const char* org : {"jeugdhulp", "gemeente"}) {
    holders.push_back(
        Must(bench::StartEchoPeer(net->Entry(org), *Must(bench::LoadTls(net->config(org)), "holder TLS"), *school_tls),
             "echo peer"));
  }
  const std::vector<bench::EchoPeer*> holder_ptrs = {&holders[0], &holders[1]};
  const std::string echo_socket = net->dir() + "/echo.sock";
  auto local_echo =
      Must(bench::StartEchoServer("unix:" + echo_socket, grpc::InsecureServerCredentials()), "local echo");
  auto local_echo_stub = bench::LocalStub<bench::Echo>(echo_socket);
  auto bare = [&] { return bench::EchoOnce(*local_echo_stub) && bench::EchoFanOut(holder_ptrs); };

  for (int i = 0; i < 100; ++i) {  // warm up: connections, caches, holder sets
    if (!derive() || !bare()) {
      std::fprintf(stderr, "bench pseudonym_derive: warm-up call failed\n");
      return 1;
    }
  }
  const bench::Comparison c = bench::Compare(
      5, [&] { return bench::RunConcurrent(callers, duration, derive); },
      [&] { return bench::RunConcurrent(callers, duration, bare); });
  bench::Report("pseudonym_derive", c, "callers=4 t=2 holders=3");
  return 0;
}
