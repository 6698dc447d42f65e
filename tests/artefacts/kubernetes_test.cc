// Artefacts: the Kubernetes manifests `casectl network init --kubernetes`
// writes. Every object validated against the Kubernetes schema with unknown
// fields refused (tests/artefacts/kubernetes/validate.mjs, npm
// kubernetes-models, installed as a test tool), the overlays' key material and
// configuration consistent with what the pod mounts. (The container test runs
// a node of such an overlay in the pod's file layout.)
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "base/file.h"
#include "node/config/config.h"
#include "tests/artefacts/package.h"
#include "tests/support/local_network.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using casenode::testing::RunResult;
using casenode::testing::RunTool;

namespace {

// The validator and its npm packages, installed once per build tree.
std::string Validator() {
  const std::string dir = CASENODE_BINARY_DIR "/kubernetes-validate";
  std::filesystem::create_directories(dir);
  for (const char* f : {"package.json", "package-lock.json", "validate.mjs"}) {
    std::filesystem::copy_file(std::string(CASENODE_SOURCE_DIR "/tests/artefacts/kubernetes/") + f, dir + "/" + f,
                               std::filesystem::copy_options::overwrite_existing);
  }
  if (!std::filesystem::exists(dir + "/node_modules/kubernetes-models")) {
    const RunResult npm = RunTool({"npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"}, dir);
    INFO(npm.out << npm.err);
    REQUIRE(npm.exit_code == 0);
  }
  return dir + "/validate.mjs";
}

RunResult Validate(const std::string& validator, const std::string& dir) { return RunTool({"node", validator, dir}); }

RunResult Init(const TempDir& tmp, std::vector<std::string> extra) {
  std::vector<std::string> argv = {testing::CasectlBin(), "network", "init", tmp.path("net"), "--kubernetes",
                                   tmp.path("k8s")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return casenode::testing::Run(argv);
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("network init --kubernetes writes a kustomize base and overlays that pass the Kubernetes schema strictly",
          "[artefact][kubernetes]") {
  const std::string validator = Validator();
  TempDir tmp;
  const RunResult init = Init(tmp, {});
  INFO(init.out << init.err);
  REQUIRE(init.exit_code == 0);

  const RunResult valid = Validate(validator, tmp.path("k8s"));
  INFO(valid.out << valid.err);
  REQUIRE(valid.exit_code == 0);
  // The base's four objects and one Namespace per organisation; the six kustomizations checked too.
  REQUIRE(std::filesystem::is_directory(tmp.path("k8s/overlays/school")));
  REQUIRE_FALSE(std::filesystem::exists(tmp.path("k8s.partial")));
  REQUIRE(valid.out.find("9 objects validated, 0 problems") != std::string::npos);
  REQUIRE(valid.out.find("Kustomization") != std::string::npos);
  std::printf("kubernetes manifests: %s", valid.out.substr(valid.out.rfind('\n', valid.out.size() - 2) + 1).c_str());

  // The manifest names each node by its Service's cluster name.
  const auto manifest = nlohmann::json::parse(*ReadFile(tmp.path("net/network/manifest.json")));
  for (const auto& node : manifest.at("nodes")) {
    REQUIRE(node.at("endpoint") ==
            "casenode.casenode-" + node.at("org").get<std::string>() + ".svc:7101");
  }

  // Each overlay: the node's configuration names only what the pod mounts,
  // its key material is in the Secret (0600 files), nothing else is.
  for (const std::string org : {"school", "jeugdhulp", "politie", "gemeente", "auditor"}) {
    CAPTURE(org);
    const std::string overlay = tmp.path("k8s/overlays/" + org);
    auto config = node::NodeConfig::Load(overlay + "/node/casenode.toml");
    REQUIRE(config.ok());
    REQUIRE(config->data_dir == "/var/lib/casenode/data");
    REQUIRE(config->local_socket == "/run/casenode/local.sock");
    REQUIRE(config->peer_listen == "0.0.0.0:7101");
    REQUIRE(config->identity == "/run/casenode/keys/identity.sealed");
    REQUIRE(config->master_key == "file:/run/casenode/keys/master.key");
    REQUIRE(config->tls_cert == "/etc/casenode/node/cert.pem");
    REQUIRE(config->manifest == "/etc/casenode/network/manifest.json");
    REQUIRE(config->policy_network == "/etc/casenode/network/policy");
    const bool holder = org == "jeugdhulp" || org == "politie" || org == "gemeente";
    REQUIRE(config->oprf_share == (holder ? "/run/casenode/keys/oprf-share.sealed" : ""));
    for (const std::string f : {"identity.sealed", "master.key"}) REQUIRE(Mode(overlay + "/secrets/" + f) == 0600);
    REQUIRE(std::filesystem::exists(overlay + "/secrets/oprf-share.sealed") == holder);
    REQUIRE(*ReadFile(overlay + "/secrets/identity.sealed") == *ReadFile(tmp.path("net/" + org + "/identity.sealed")));
    const std::string kustomization = *ReadFile(overlay + "/kustomization.yaml");
    REQUIRE(kustomization.find("namespace: casenode-" + org + "\n") != std::string::npos);
    REQUIRE(kustomization.find("  - secrets/identity.sealed\n") != std::string::npos);
    // Fixed ConfigMap names: a renewed certificate or manifest reaches the
    // running pod's files without rolling the StatefulSet.
    REQUIRE(kustomization.find("generatorOptions:\n  disableNameSuffixHash: true\n") != std::string::npos);
  }
  REQUIRE(ReadFile(tmp.path("k8s/base/kustomization.yaml"))->find("disableNameSuffixHash: true") != std::string::npos);
  const std::string statefulset = *ReadFile(tmp.path("k8s/base/statefulset.yaml"));
  for (const char* expected : {"readOnlyRootFilesystem: true", "runAsNonRoot: true", "runAsUser: 10001",
                               "allowPrivilegeEscalation: false", "- ALL", "medium: Memory", "type: RuntimeDefault"}) {
    CAPTURE(expected);
    REQUIRE(statefulset.find(expected) != std::string::npos);
  }
}

TEST_CASE("the Kubernetes validator refuses unknown fields, bad enum values and missing generator files",
          "[artefact][kubernetes]") {
  const std::string validator = Validator();
  TempDir tmp;
  REQUIRE(Init(tmp, {"--org", "school:school", "--org", "gemeente:gemeente"}).exit_code == 0);
  REQUIRE(Validate(validator, tmp.path("k8s")).exit_code == 0);

  auto edit = [&](const std::string& file, const std::string& from, const std::string& to) {
    std::string text = *ReadFile(tmp.path("k8s/" + file));
    REQUIRE(text.find(from) != std::string::npos);
    text.replace(text.find(from), from.size(), to);
    REQUIRE(WriteFileAtomic(tmp.path("k8s/" + file), text, 0644).ok());
  };
  edit("base/statefulset.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesytem: true");
  edit("base/statefulset.yaml", "  serviceName: casenode\n", "  serviceName: casenode\n  podManagementPolicy: Sometimes\n");
  edit("base/service.yaml", "  type: ClusterIP\n", "  type: ClusterIP\n  tpye: NodePort\n");
  edit("overlays/school/kustomization.yaml", "node/cert.pem", "node/certificate.pem");
  edit("overlays/school/namespace.yaml", "  name: casenode-school\n", "  name: casenode-school\n  annotations:\n    ok: on\n");
  const RunResult invalid = Validate(validator, tmp.path("k8s"));
  INFO(invalid.out << invalid.err);
  REQUIRE(invalid.exit_code == 1);
  REQUIRE(invalid.err.find("/spec/template/spec/initContainers/0/securityContext/readOnlyRootFilesytem: unknown field") !=
          std::string::npos);
  REQUIRE(invalid.err.find("/spec/podManagementPolicy must be equal to one of the allowed values") !=
          std::string::npos);
  REQUIRE(invalid.err.find("Service /spec/tpye: unknown field") != std::string::npos);
  REQUIRE(invalid.err.find("file node/certificate.pem does not exist") != std::string::npos);
  REQUIRE(invalid.err.find("namespace.yaml: reads differently as YAML 1.1") != std::string::npos);
}

TEST_CASE("network init --kubernetes refuses a used directory and long org ids before writing anything",
          "[artefact][kubernetes]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path("k8s"));
  REQUIRE(WriteFileAtomic(tmp.path("k8s/keep"), "x", 0644).ok());
  const RunResult used = Init(tmp, {});
  REQUIRE(used.exit_code != 0);
  REQUIRE(used.err.find("--kubernetes") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(tmp.path("net/network")));

  std::filesystem::remove_all(tmp.path("k8s"));
  const RunResult long_org = Init(tmp, {"--org", std::string(55, 'a') + ":school", "--org", "gemeente:gemeente"});
  REQUIRE(long_org.exit_code != 0);
  REQUIRE(long_org.err.find("on Kubernetes at most 54 characters") != std::string::npos);
  const RunResult dash = Init(tmp, {"--org", "school-:school"});
  REQUIRE(dash.exit_code != 0);
  REQUIRE(dash.err.find("starting and ending with a letter or digit") != std::string::npos);
  const RunResult network = Init(tmp, {"--network", "regio flevoland"});
  REQUIRE(network.exit_code != 0);
  REQUIRE(network.err.find("--network: on Kubernetes") != std::string::npos);
  const RunResult image = Init(tmp, {"--image", "casenode:0.1.0\nkind: Secret"});
  REQUIRE(image.exit_code != 0);
  REQUIRE(image.err.find("--image:") != std::string::npos);
  REQUIRE(WriteFileAtomic(tmp.path("k8s"), "", 0644).ok());  // a file, not a directory
  const RunResult file = Init(tmp, {});
  REQUIRE(file.exit_code != 0);
  REQUIRE(file.err.find("--kubernetes:") != std::string::npos);
  std::filesystem::remove(tmp.path("k8s"));
  REQUIRE_FALSE(std::filesystem::exists(tmp.path("net/network")));
  REQUIRE_FALSE(std::filesystem::exists(tmp.path("k8s")));

  // With a passphrase, the Secret holds the passphrase and the node reads it
  // as a file. (The directory given with a trailing slash, as people type it.)
  const RunResult sealed = casenode::testing::Run(
      {testing::CasectlBin(), "network", "init", tmp.path("net2"), "--kubernetes", tmp.path("k8s2") + "/", "--org",
       "school:school", "--passphrase-env", "NODE_PASS"},
      "", {"NODE_PASS=correct horse battery staple"});
  INFO(sealed.out << sealed.err);
  REQUIRE(sealed.exit_code == 0);
  REQUIRE_FALSE(std::filesystem::exists(tmp.path("k8s2.partial")));
  REQUIRE(*ReadFile(tmp.path("k8s2/overlays/school/secrets/master-passphrase")) == "correct horse battery staple");
  REQUIRE(Mode(tmp.path("k8s2/overlays/school/secrets/master-passphrase")) == 0600);
  REQUIRE(node::NodeConfig::Load(tmp.path("k8s2/overlays/school/node/casenode.toml"))->master_key ==
          "passphrase-file:/run/casenode/keys/master-passphrase");
}
