// bench signal_check: the school's question "is this child known?" across a
// real network (provision::CreateNetwork, every node in this process on loopback,
// loaded from its own casenode.toml). Peers that take part in signal lookup
// are those whose role the network policy lets look up signals (school,
// jeugdhulp, gemeente; not politie, not the auditor), so the networks here
// are the school plus peers of those roles only.
//
// Three reports:
//   signal_check      the lookup fan-out alone: the school's PeerClient asks
//                     its 4 peers Peer.LookupSignal in parallel (each peer:
//                     gate, policy decision, synced decision record, signal
//                     read), vs a bare gRPC echo fan-out to the same 4 peers'
//                     certificates over the same mTLS. 4 callers. Target ≥ 0.5.
//   signal_check_e2e  LocalSignals.Check end to end, as casectl asks it:
//                     Unix socket hop, pseudonym derivation (t=2 holders), the
//                     fan-out, the school's own signals. Baseline: the same
//                     round trips done bare — a Unix-socket echo, a parallel
//                     echo to 2 holders, a parallel echo to the 4 peers. 4 callers.
//   signal_check_scale  how one check's latency grows with 4, 16 and 32 peers
//                     (one caller, so nothing queues behind another check):
//                     p50/p99 of the whole check, of the fan-out alone, the
//                     slowest peer's and the sum of all peers' round trips in
//                     a fan-out, one peer asked alone, and a bare echo fan-out
//                     to as many peers. A fan-out that grows with the slowest
//                     peer stays near slowest_peer, far below sum_of_peers.
//                     On loopback every peer shares this machine's cores and
//                     disk, so the slowest peer itself waits for the others'
//                     work and grows with their number; the echo fan-out
//                     shows how much of that is the transport alone.
//
// The network policy is a copy of policy/network with its rate limits lifted
// (see CopyPolicyWithoutRateLimits): the shipped one allows 120 lookups and
// 600 pseudonym evaluations a minute per requesting organisation, which the
// benchmark passes in well under a second.
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/log.h"
#include "base/strings.h"
#include "casenode/v1/local.grpc.pb.h"
#include "node/rpc/peer_client.h"
#include "node/rpc/runtime.h"
#include "policy/policy.h"
#include "tests/bench/bench_network.h"
#include "tests/bench/harness.h"

using namespace casenode;
using bench::Must;

namespace {

void Fail(const char* what) {
  std::fprintf(stderr, "bench signal_check: %s\n", what);
  std::exit(1);
}

constexpr char kBsn[] = "123456782";  // passes the elfproef
constexpr char kPurpose[] = "vroegsignalering";
constexpr char kLegalBasis[] = "public_task";

// The school and `peers` organisations that take part in signal lookup, their
// roles in turn jeugdhulp, gemeente, school (so about two in three are also
// pseudonym key holders).
std::vector<std::string> NetworkSpecs(int peers) {
  static const char* const kRoles[] = {"jeugdhulp", "gemeente", "school"};
  std::vector<std::string> specs = {"school:school"};
  for (int i = 0; i < peers; ++i) {
    const char* role = kRoles[i % 3];
    specs.push_back(StrCat(role, "-", i + 1, ":", role));
  }
  return specs;
}

// A network with the school's side of a check set up three ways: its Local
// API (as casectl), its own PeerClient for the fan-out alone, and bare echo
// servers with every asked peer's certificate.
class CheckBench {
 public:
  explicit CheckBench(int peers)
      : net_(Must(bench::InProcessNetwork::Start(NetworkSpecs(peers)), "network")),
        school_(net_->node("school")),
        tls_(Must(bench::LoadTls(net_->config("school")), "school TLS")),
        // The school's own identity in a client of its own: the same calls,
        // channels and deadline (the config's peer timeout) the node's
        // SignalDesk makes, but reachable without the derivation before them.
        client_(school_.network(), *tls_, net_->config("school").peer_timeout, net_->config("school").max_message_bytes),
        signals_(bench::LocalStub<v1::LocalSignals>(net_->created("school").socket_path)) {
    // The peers asked, chosen as SignalDesk::Lookup chooses them: by the policy.
    manifest_ = school_.network().manifest();
    auto policy = Must(policy::Policy::Load(net_->config("school").policy_network), "policy");
    for (const network::ManifestNode& n : manifest_->nodes) {
      if (n.org == "school") continue;
      policy::Request q;
      q.subject = policy::kThisChild;
      q.requester_org = n.org;
      q.requester_role = std::string(network::RoleName(n.role));
      q.action = "signal.lookup";
      q.purpose = kPurpose;
      q.categories = {"signaal"};
      q.legal_basis = kLegalBasis;
      if (policy->Evaluate(q).allowed()) asked_.push_back(&n);
    }
    if (asked_.size() != static_cast<size_t>(peers)) Fail("not every peer takes part in signal lookup");
    first_ = {asked_.front()};

    // The child's pseudonym, derived once by the school: the fan-out's subject.
    auto pseudonyms = bench::LocalStub<v1::LocalPseudonyms>(net_->created("school").socket_path);
    grpc::ClientContext ctx;
    v1::DerivePseudonymRequest derive;
    derive.set_bsn(kBsn);
    derive.set_purpose(kPurpose);
    derive.set_legal_basis(kLegalBasis);
    v1::DerivePseudonymResponse derived;
    if (!pseudonyms->Derive(&ctx, derive, &derived).ok()) Fail("derive failed");
    lookup_.set_subject(derived.pseudonym());
    lookup_.set_purpose(kPurpose);
    lookup_.set_legal_basis(kLegalBasis);

    // Baselines: each asked peer's certificate behind a bare echo server.
    echo_peers_.reserve(asked_.size());
    for (const network::ManifestNode* peer : asked_) {
      echo_peers_.push_back(Must(
          bench::StartEchoPeer(*peer, *Must(bench::LoadTls(net_->config(peer->org)), "peer TLS"), *tls_), "echo peer"));
      all_echo_.push_back(&echo_peers_.back());
      if (manifest_->FindOprfHolder(peer->org) != nullptr && holder_echo_.size() < 2) {
        holder_echo_.push_back(&echo_peers_.back());
      }
    }
    if (holder_echo_.size() != 2) Fail("fewer than 2 pseudonym key holders");
    const std::string socket = net_->dir() + "/echo.sock";
    local_echo_ = Must(bench::StartEchoServer("unix:" + socket, grpc::InsecureServerCredentials()), "local echo");
    local_echo_stub_ = bench::LocalStub<bench::Echo>(socket);

    for (int i = 0; i < 50; ++i) {  // warm up: connections, caches, holder sets
      if (!Check() || !FanOut() || !EchoFanOut() || !BareCheck()) Fail("warm-up call failed");
    }
  }

  size_t peers() const { return asked_.size(); }
  std::chrono::milliseconds setup_time() const { return net_->setup_time(); }

  // LocalSignals.Check, as `casectl signal check` asks it. Nothing is
  // registered, so a complete answer is "not known" from every peer.
  bool Check() {
    grpc::ClientContext ctx;
    v1::CheckSignalRequest req;
    req.set_bsn(kBsn);
    req.set_purpose(kPurpose);
    req.set_legal_basis(kLegalBasis);
    v1::SignalCheckResult result;
    return signals_->Check(&ctx, req, &result).ok() && result.status() == "complete" && result.denied().empty();
  }

  // The fan-out alone: Peer.LookupSignal to every asked peer at once (or to
  // the first of them only). If `rtts` is given, adds the slowest peer's and
  // the sum of all peers' round trips, in µs.
  struct Rtts {
    std::mutex mu;
    std::vector<double> slowest, sum;
  };
  bool FanOut(Rtts* rtts = nullptr, bool first_only = false) {
    const auto replies =
        client_.LookupSignal(first_only ? first_ : asked_, lookup_, /*trace_id=*/"", node::PeerClient::Deadline::max());
    double slowest = 0, sum = 0;
    for (const auto& r : replies) {
      if (!r.status.ok()) return false;
      slowest = std::max(slowest, r.rtt.count() * 1e3);
      sum += r.rtt.count() * 1e3;
    }
    if (rtts != nullptr) {
      std::lock_guard<std::mutex> lock(rtts->mu);
      rtts->slowest.push_back(slowest);
      rtts->sum.push_back(sum);
    }
    return true;
  }

  bool EchoFanOut() { return bench::EchoFanOut(all_echo_); }

  // The round trips of a check, bare: casectl -> node, t=2 holders, every peer.
  bool BareCheck() {
    return bench::EchoOnce(*local_echo_stub_) && bench::EchoFanOut(holder_echo_) && bench::EchoFanOut(all_echo_);
  }

 private:
  std::unique_ptr<bench::InProcessNetwork> net_;
  node::Node& school_;
  const std::unique_ptr<node::TlsIdentity> tls_;
  node::PeerClient client_;
  std::unique_ptr<v1::LocalSignals::Stub> signals_;
  std::shared_ptr<const network::Manifest> manifest_;  // asked_ points into it
  std::vector<const network::ManifestNode*> asked_;
  std::vector<const network::ManifestNode*> first_;  // asked_'s first peer alone
  v1::LookupSignalRequest lookup_;
  std::vector<bench::EchoPeer> echo_peers_;  // reserved up front: the vectors below point into it
  std::vector<bench::EchoPeer*> all_echo_;
  std::vector<bench::EchoPeer*> holder_echo_;
  std::unique_ptr<bench::EchoServer> local_echo_;
  std::unique_ptr<bench::Echo::Stub> local_echo_stub_;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// One caller, one check at a time: the latency of a check with this many peers.
void ReportScale(CheckBench& b, std::chrono::milliseconds duration) {
  const bench::Result check = bench::RunConcurrent(1, duration, [&] { return b.Check(); });
  CheckBench::Rtts rtts;
  const bench::Result fanout = bench::RunConcurrent(1, duration, [&] { return b.FanOut(&rtts); });
  const bench::Result one =
      bench::RunConcurrent(1, duration / 2, [&] { return b.FanOut(nullptr, /*first_only=*/true); });
  const bench::Result echo = bench::RunConcurrent(1, duration / 2, [&] { return b.EchoFanOut(); });
  std::printf(
      "bench signal_check_scale peers=%zu p50_us=%.1f p99_us=%.1f fanout_p50_us=%.1f fanout_p99_us=%.1f "
      "slowest_peer_p50_us=%.1f sum_of_peers_p50_us=%.1f one_peer_p50_us=%.1f echo_fanout_p50_us=%.1f "
      "echo_fanout_p99_us=%.1f n=%zu setup_ms=%lld\n",
      b.peers(), check.p50_us, check.p99_us, fanout.p50_us, fanout.p99_us, Median(rtts.slowest), Median(rtts.sum),
      one.p50_us, echo.p50_us, echo.p99_us, check.n, static_cast<long long>(b.setup_time().count()));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (!node::PrepareRpcRuntime().ok()) return 1;  // as casenode does: TLS 1.3 only
  SetLogLevel("warn");
  const int callers = 4;
  const auto duration = std::chrono::milliseconds(argc > 1 ? std::atoi(argv[1]) : 1000);

  {
    CheckBench b(4);
    const bench::Comparison fanout = bench::Compare(
        5, [&] { return bench::RunConcurrent(callers, duration, [&] { return b.FanOut(); }); },
        [&] { return bench::RunConcurrent(callers, duration, [&] { return b.EchoFanOut(); }); });
    bench::Report("signal_check", fanout, "peers=4 callers=4");
    const bench::Comparison e2e = bench::Compare(
        3, [&] { return bench::RunConcurrent(callers, duration, [&] { return b.Check(); }); },
        [&] { return bench::RunConcurrent(callers, duration, [&] { return b.BareCheck(); }); });
    bench::Report("signal_check_e2e", e2e, "peers=4 callers=4 t=2");
    ReportScale(b, duration);
  }
  // One network at a time: each size's nodes are stopped before the next starts.
  for (int peers : {16, 32}) {
    CheckBench b(peers);
    ReportScale(b, duration);
  }
  return 0;
}
