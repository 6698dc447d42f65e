// Artefacts: the container image. Built offline from this tree's Debian
// package (deploy/container/build-image.sh), then a small network of nodes
// runs in containers as the image's non-root user, on a read-only root
// file system with every capability dropped: they reach each other over
// mTLS, the image's HEALTHCHECK reports healthy, and each stops cleanly.
// podman is configured by a file this test writes (CONTAINERS_CONF): runc,
// and rlimits this machine allows.
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "provision/kubernetes.h"
#include "tests/artefacts/package.h"
#include "tests/support/local_network.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using casenode::testing::Run;
using casenode::testing::RunTool;
using casenode::testing::RunResult;
using casenode::testing::TrimNewlines;

namespace {

const std::string kImage = "localhost/casenode-test:" + std::to_string(::getpid());
const std::vector<std::string> kOrgs = {"school", "jeugdhulp", "gemeente"};

std::string ContainerName(const std::string& org) { return "casenode-test-" + std::to_string(::getpid()) + "-" + org; }

constexpr char kLabel[] = "casenode-artefact-test";

class Podman {
 public:
  explicit Podman(const TempDir& tmp) {
    rlimit nofile{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    const std::string n = std::to_string(nofile.rlim_max);
    const std::string conf = tmp.path("containers.conf");
    REQUIRE(WriteFileAtomic(conf,
                            "[containers]\ndefault_ulimits = [\"nofile=" + n + ":" + n +
                                "\", \"nproc=32768:32768\"]\n[engine]\nruntime = \"runc\"\n",
                            0644)
                .ok());
    env_ = {"CONTAINERS_CONF=" + conf};
    RemoveContainers();  // a killed earlier run's
  }
  ~Podman() {
    RemoveContainers();
    RunTool({"podman", "rmi", "-f", kImage}, "", env_);
  }
  RunResult operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), "podman");
    return RunTool(args, "", env_);
  }
  const std::vector<std::string>& env() const { return env_; }

 private:
  void RemoveContainers() const {
    const RunResult ids = RunTool({"podman", "ps", "-aq", "--filter", std::string("label=") + kLabel}, "", env_);
    std::vector<std::string> rm = {"podman", "rm", "-f", "-t", "0"};
    for (size_t at = 0, end; (end = ids.out.find('\n', at)) != std::string::npos; at = end + 1) {
      rm.push_back(ids.out.substr(at, end - at));
    }
    if (rm.size() > 5) RunTool(rm, "", env_);
  }
  std::vector<std::string> env_;
};

// Waits until the image's HEALTHCHECK, run on demand as podman does here,
// passes; returns the last result.
RunResult WaitHealthy(const Podman& podman, const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  RunResult health;
  while ((health = podman({"healthcheck", "run", name})).exit_code != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return health;
}

// Rewrites `key = '...'` in a casenode.toml made by `network init`.
void SetConfig(std::string& toml, const std::string& key, const std::string& value) {
  const size_t at = toml.find("\n" + key + " = '");
  REQUIRE(at != std::string::npos);
  const size_t start = toml.find('\'', at) + 1;
  toml.replace(start, toml.find('\'', start) - start, value);
}

}  // namespace

TEST_CASE("the container image runs a network of non-root nodes that reach each other and report healthy",
          "[artefact][container]") {
  REQUIRE(::geteuid() == 0);  // debootstrap, and rootful podman
  TempDir tmp;
  // Ports outlive the containers that listen on them.
  auto ports = testing::PortBlock::Reserve(static_cast<int>(kOrgs.size()));
  REQUIRE(ports.ok());
  Podman podman(tmp);
  const std::string deb = testing::BuildPackage(tmp.path("out"));
  const RunResult build = RunTool({CASENODE_SOURCE_DIR "/deploy/container/build-image.sh", deb, kImage}, "", podman.env());
  INFO(build.out << build.err);
  REQUIRE(build.exit_code == 0);
  REQUIRE(TrimNewlines(build.out) == kImage);

  const RunResult inspect = podman({"image", "inspect", kImage});
  REQUIRE(inspect.exit_code == 0);
  const nlohmann::json image = nlohmann::json::parse(inspect.out).at(0);
  REQUIRE(image.at("Config").at("User") == "casenode");
  REQUIRE(image.at("Healthcheck").at("Test") ==
          nlohmann::json::array({"CMD", "/usr/bin/casectl", "--timeout-ms", "3000", "node", "health"}));
  std::printf("container image %s: %.1f MB\n", kImage.c_str(), image.at("Size").get<double>() / 1e6);
  const std::string uid = TrimNewlines(podman({"run", "--rm", "--entrypoint", "/usr/bin/id", kImage, "-u"}).out);
  const std::string gid = TrimNewlines(podman({"run", "--rm", "--entrypoint", "/usr/bin/id", kImage, "-g"}).out);
  REQUIRE(uid == "10001");  // fixed: Kubernetes' runAsUser names it
  REQUIRE(gid == "10001");

  // The network's files as an operator hands them to containers: each node's
  // own directory at /etc/casenode/node, the network's at
  // /etc/casenode/network (both read-only), state in the volume.
  std::vector<std::string> init = {testing::CasectlBin(), "network", "init", tmp.path("net"), "--base-port",
                                   std::to_string((*ports)->base())};
  for (const std::string& org : kOrgs) init.insert(init.end(), {"--org", org + ":" + org});
  const RunResult made = RunTool(init);
  INFO(made.out << made.err);
  REQUIRE(made.exit_code == 0);
  for (const std::string& org : kOrgs) {
    const std::string node_dir = tmp.path("net/" + org);
    std::string toml = *ReadFile(node_dir + "/casenode.toml");
    SetConfig(toml, "data_dir", "/var/lib/casenode/data");
    SetConfig(toml, "socket", "/var/lib/casenode/local.sock");
    REQUIRE(WriteFileAtomic(node_dir + "/casenode.toml", toml, 0644).ok());
    std::filesystem::remove_all(node_dir + "/data");
    const std::string state = tmp.path("state-" + org);
    std::filesystem::create_directories(state);
    // Key files belong to the user the node runs as (it checks).
    REQUIRE(RunTool({"chown", "-R", uid + ":" + gid, node_dir, state}).exit_code == 0);
    REQUIRE(RunTool({"chmod", "0700", state}).exit_code == 0);
    const RunResult run = podman({"run", "-d", "--name", ContainerName(org), "--label", kLabel, "--network=host", "--read-only",
                                  "--cap-drop=all", "--security-opt=no-new-privileges", "--health-interval=disable",
                                  "-v", node_dir + ":/etc/casenode/node:ro", "-v",
                                  tmp.path("net/network") + ":/etc/casenode/network:ro", "-v",
                                  state + ":/var/lib/casenode", kImage, "--config", "/etc/casenode/node/casenode.toml"});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
  }

  // The image's own HEALTHCHECK (casectl node health), run on demand as
  // podman does here: healthy once the node serves.
  for (const std::string& org : kOrgs) {
    CAPTURE(org);
    const RunResult health = WaitHealthy(podman, ContainerName(org));
    INFO(health.out << health.err << podman({"logs", ContainerName(org)}).err);
    REQUIRE(health.exit_code == 0);
    REQUIRE(TrimNewlines(podman({"inspect", "--format", "{{.State.Health.Status}}", ContainerName(org)}).out) ==
            "healthy");
  }

  // They reach each other: every node pings every other over mTLS.
  for (const std::string& from : kOrgs) {
    for (const std::string& to : kOrgs) {
      if (from == to) continue;
      CAPTURE(from, to);
      const RunResult ping = podman({"exec", ContainerName(from), "casectl", "-o", "json", "node", "ping", to});
      INFO(ping.out << ping.err);
      REQUIRE(ping.exit_code == 0);
      REQUIRE(nlohmann::json::parse(ping.out)["reachable"] == true);
    }
  }

  // SIGTERM from podman stop: the node drains and exits 0.
  for (const std::string& org : kOrgs) {
    CAPTURE(org);
    REQUIRE(podman({"stop", "-t", "20", ContainerName(org)}).exit_code == 0);
    REQUIRE(TrimNewlines(podman({"inspect", "--format", "{{.State.ExitCode}}", ContainerName(org)}).out) == "0");
  }

  // A node in the pod's file layout from `network init --kubernetes`
  // (provision/kubernetes.h): the Secret's files root-owned with group
  // fsGroup and mode 0440, copied by the init container's own command into
  // the memory volume at /run/casenode as the node's user (its socket is there
  // too); the persistent volume root-owned,
  // group fsGroup, setgid; the node read-only, on no network but its own.
  std::vector<std::string> kinit = {testing::CasectlBin(), "network", "init", tmp.path("knet"), "--kubernetes",
                                    tmp.path("k8s"), "--org", "school:school", "--org", "gemeente:gemeente"};
  REQUIRE(RunTool(kinit).exit_code == 0);
  const std::string init_command = provision::KubernetesKeysCommand();
  REQUIRE(ReadFile(tmp.path("k8s/base/statefulset.yaml"))->find("- \"" + init_command + "\"\n") != std::string::npos);
  const std::string secrets = tmp.path("k8s/overlays/school/secrets");
  const std::string run = tmp.path("pod-run");  // the memory volume at /run/casenode
  const std::string state = tmp.path("pod-state");
  std::filesystem::create_directories(run);
  std::filesystem::create_directories(state);
  REQUIRE(RunTool({"sh", "-c", "chgrp -R 10001 '" + secrets + "' && chmod 0440 '" + secrets + "'/* && chmod 1777 '" +
                                   run + "' && chgrp 10001 '" + state + "' && chmod 2775 '" + state + "'"})
              .exit_code == 0);
  const std::vector<std::string> pod = {"--label", kLabel, "--network=none", "--read-only", "--cap-drop=all",
                                        "--security-opt=no-new-privileges", "--user", "10001:10001"};
  std::vector<std::string> keys_init = {"run", "--rm"};
  keys_init.insert(keys_init.end(), pod.begin(), pod.end());
  keys_init.insert(keys_init.end(), {"-v", secrets + ":/etc/casenode/secrets:ro", "-v", run + ":/run/casenode",
                                     "--entrypoint", "/bin/sh", kImage, "-c", init_command});
  const RunResult copied = podman(keys_init);
  INFO(copied.out << copied.err);
  REQUIRE(copied.exit_code == 0);
  const std::string pod_name = ContainerName("pod-school");
  std::vector<std::string> node = {"run", "-d", "--name", pod_name, "--health-interval=disable", "--env",
                                   "CASENODE_SOCKET=/run/casenode/local.sock"};
  node.insert(node.end(), pod.begin(), pod.end());
  node.insert(node.end(), {"-v", tmp.path("k8s/overlays/school/node") + ":/etc/casenode/node:ro", "-v",
                           tmp.path("k8s/base/network") + ":/etc/casenode/network:ro", "-v",
                           run + ":/run/casenode", "-v", state + ":/var/lib/casenode", kImage});
  REQUIRE(podman(node).exit_code == 0);
  const RunResult health = WaitHealthy(podman, pod_name);
  INFO(health.out << health.err << podman({"logs", pod_name}).err);
  REQUIRE(health.exit_code == 0);
  REQUIRE(podman({"stop", "-t", "20", pod_name}).exit_code == 0);
  REQUIRE(TrimNewlines(podman({"inspect", "--format", "{{.State.ExitCode}}", pod_name}).out) == "0");
}
