#include "tests/bench/bench_network.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

#include "base/encoding.h"
#include "base/file.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/identity.h"
#include "keys/master_key.h"

namespace casenode::bench {
namespace fs = std::filesystem;

absl::Status CopyPolicyWithoutRateLimits(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create ", to, ": ", ec.message()));
  for (const auto& e : fs::directory_iterator(from, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".toml") continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(e.path().string()));
    std::istringstream in(text);
    std::string out, line;
    while (std::getline(in, line)) {
      if (line.starts_with("rate_limit_per_minute"))
        line = "rate_limit_per_minute = 1000000  # lifted for the benchmark";
      if (line.find("per_minute = ") != std::string::npos && line.find("per_day = ") != std::string::npos) {
        line = line.substr(0, line.find('=')) + "= { per_minute = 1000000, per_day = 1000000000 }  # lifted";
      }
      out += line + "\n";
    }
    RETURN_IF_ERROR(WriteFileAtomic(to + "/" + e.path().filename().string(), out, 0644));
  }
  if (ec) return absl::UnavailableError(StrCat("cannot read ", from, ": ", ec.message()));
  return absl::OkStatus();
}

namespace {

// The directories of the networks alive now. A benchmark that fails exits
// (std::exit) without unwinding, and a 32-peer network leaves gigabytes of
// stores behind: these go at exit.
std::mutex live_mu;
std::vector<std::string>* live_dirs = nullptr;

void RemoveLiveDirs() {
  std::lock_guard<std::mutex> lock(live_mu);
  for (const std::string& dir : *live_dirs) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  live_dirs->clear();
}

void TrackLiveDir(const std::string& dir, bool alive) {
  std::lock_guard<std::mutex> lock(live_mu);
  if (live_dirs == nullptr) {
    live_dirs = new std::vector<std::string>();  // outlives every static destructor
    std::atexit(RemoveLiveDirs);
  }
  if (alive) {
    live_dirs->push_back(dir);
  } else {
    std::erase(*live_dirs, dir);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessNetwork>> InProcessNetwork::Start(const std::vector<std::string>& org_specs) {
  const auto began = std::chrono::steady_clock::now();
  std::unique_ptr<InProcessNetwork> net(new InProcessNetwork());
  TrackLiveDir(net->temp_.root(), true);
  ASSIGN_OR_RETURN(net->ports_, testing::PortBlock::Reserve(static_cast<int>(org_specs.size())));
  RETURN_IF_ERROR(CopyPolicyWithoutRateLimits(CASENODE_SOURCE_DIR "/policy/network", net->temp_.path("policy")));

  provision::NetworkPlan plan;
  plan.dir = net->temp_.path("net");
  plan.base_port = net->ports_->base();
  plan.policy_dir = net->temp_.path("policy");
  for (const std::string& spec : org_specs) {
    ASSIGN_OR_RETURN(provision::OrgSpec org, provision::ParseOrgSpec(spec));
    plan.orgs.push_back(std::move(org));
  }
  ASSIGN_OR_RETURN(net->created_, provision::CreateNetwork(plan, SystemNow()));

  for (const provision::CreatedNode& created : net->created_.nodes) {
    ASSIGN_OR_RETURN(node::NodeConfig config, node::NodeConfig::Load(created.config_path));
    ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, node::Node::Create(config));
    RETURN_IF_ERROR(Annotate(created.org, n->Start()));
    net->configs_.push_back(std::move(config));
    net->nodes_.push_back(std::move(n));
  }
  net->setup_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  return net;
}

InProcessNetwork::~InProcessNetwork() {
  // Stop every listener first, so no node calls one that is already gone.
  for (auto& n : nodes_) n->Shutdown(std::chrono::milliseconds(0));
  nodes_.clear();
  TrackLiveDir(temp_.root(), false);  // temp_ removes it
}

size_t InProcessNetwork::IndexOf(std::string_view org) const {
  for (size_t i = 0; i < created_.nodes.size(); ++i) {
    if (created_.nodes[i].org == org) return i;
  }
  std::fprintf(stderr, "bench: no org %.*s in the network\n", static_cast<int>(org.size()), org.data());
  std::abort();
}

const provision::CreatedNode& InProcessNetwork::created(std::string_view org) const { return created_.nodes[IndexOf(org)]; }
node::Node& InProcessNetwork::node(std::string_view org) { return *nodes_[IndexOf(org)]; }
const node::NodeConfig& InProcessNetwork::config(std::string_view org) const { return configs_[IndexOf(org)]; }

network::ManifestNode InProcessNetwork::Entry(std::string_view org) const {
  return *nodes_[IndexOf(org)]->network().manifest()->FindOrg(org);
}

absl::StatusOr<std::unique_ptr<node::TlsIdentity>> LoadTls(const node::NodeConfig& config) {
  ASSIGN_OR_RETURN(std::string ca, ReadFile(config.ca_cert));
  ASSIGN_OR_RETURN(std::string cert, ReadFile(config.tls_cert));
  ASSIGN_OR_RETURN(std::string sealed, ReadFile(config.identity));
  ASSIGN_OR_RETURN(keys::MasterKey master, keys::MasterKey::Unlock(config.master_key, AsBytes(sealed)));
  ASSIGN_OR_RETURN(keys::SecretBytes plain, master.Open(keys::kNodeIdentityPurpose, AsBytes(sealed)));
  ASSIGN_OR_RETURN(keys::NodeIdentity identity, keys::NodeIdentity::Parse(plain.span()));
  return node::TlsIdentity::Create(node::TlsMaterial{std::move(ca), std::move(cert), std::move(identity.tls_key_pem)});
}

grpc::Status EchoService::Echo(grpc::ServerContext*, const v1::PingRequest* request, v1::PingResponse* response) {
  response->set_manifest_version(request->manifest_version());
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<EchoServer>> StartEchoServer(const std::string& listen,
                                                            const std::shared_ptr<grpc::ServerCredentials>& creds) {
  auto echo = std::make_unique<EchoServer>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, creds, &echo->port);
  node::ApplyServerOptions(builder);
  builder.RegisterService(&echo->service);
  echo->server = builder.BuildAndStart();
  if (!echo->server || echo->port == 0) return absl::UnavailableError(StrCat("echo: cannot listen on ", listen));
  return echo;
}

absl::StatusOr<EchoPeer> StartEchoPeer(const network::ManifestNode& peer, const node::TlsIdentity& peer_tls,
                                       const node::TlsIdentity& caller_tls) {
  EchoPeer out;
  ASSIGN_OR_RETURN(out.server, StartEchoServer("127.0.0.1:0", node::PeerServerCredentials(peer_tls)));
  network::ManifestNode target = peer;
  target.endpoint = StrCat("127.0.0.1:", out.server->port);
  out.stub = bench::Echo::NewStub(
      node::PeerChannel(target, node::PeerChannelCredentials(caller_tls, peer), 1 << 20));
  return out;
}

bool EchoOnce(bench::Echo::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::PingRequest req;
  req.set_manifest_version(1);
  v1::PingResponse resp;
  return stub.Echo(&ctx, req, &resp).ok() && resp.manifest_version() == 1;
}

bool EchoFanOut(const std::vector<EchoPeer*>& peers) {
  struct Call {
    grpc::ClientContext ctx;
    v1::PingRequest req;
    v1::PingResponse resp;
    bool ok = false;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  for (EchoPeer* peer : peers) {
    auto call = std::make_unique<Call>();
    // The deadline and wait-for-ready a PeerClient call sets.
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    call->ctx.set_wait_for_ready(true);
    call->req.set_manifest_version(1);
    Call* raw = call.get();
    peer->stub->async()->Echo(&raw->ctx, &raw->req, &raw->resp, [&, raw](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      raw->ok = s.ok();
      ++done;
      cv.notify_one();
    });
    calls.push_back(std::move(call));
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == calls.size(); });
  for (const auto& c : calls) {
    if (!c->ok) return false;
  }
  return true;
}

}  // namespace casenode::bench
