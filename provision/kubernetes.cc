#include "provision/kubernetes.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/config/config.h"

namespace casenode::provision {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr char kNodeDir[] = "/etc/casenode/node";
constexpr char kNetworkDir[] = "/etc/casenode/network";
constexpr char kSecretsDir[] = "/etc/casenode/secrets";
constexpr char kRunDir[] = "/run/casenode";  // memory: key files and the Local socket
constexpr char kKeysDir[] = "/run/casenode/keys";
constexpr char kStateDir[] = "/var/lib/casenode";

// YAML block style from JSON values. A string is written plain only when
// YAML cannot read it as anything but that string; otherwise double-quoted
// with JSON escapes (a subset of YAML's).
bool PlainSafe(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '/' || s[0] == '_')) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '.' && c != '-') return false;
  }
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}) {
    if (lower == word) return false;
  }
  return true;
}

std::string Scalar(const Json& v) {
  if (v.is_string()) return PlainSafe(v.get<std::string>()) ? v.get<std::string>() : v.dump();
  return v.dump();  // numbers and booleans
}

void Emit(const Json& v, int indent, std::string& out);

void EmitMember(const std::string& pad, const std::string& key, const Json& v, int indent, std::string& out) {
  out += pad + Scalar(Json(key)) + ":";
  if (v.is_object() && !v.empty()) {
    out += "\n";
    Emit(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    Emit(v, indent, out);  // "- " items at the key's indentation
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else {
    out += " " + Scalar(v) + "\n";
  }
}

void Emit(const Json& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) EmitMember(pad, key, value, indent, out);
    return;
  }
  for (const Json& item : v) {  // an array
    if (item.is_object() && !item.empty()) {
      std::string body;
      Emit(item, indent + 2, body);
      out += pad + "- " + body.substr(static_cast<size_t>(indent) + 2);
    } else {
      out += pad + "- " + (item.is_object() ? std::string("{}") : Scalar(item)) + "\n";
    }
  }
}

std::string Yaml(const Json& object) {
  std::string out;
  Emit(object, 0, out);
  return out;
}

absl::Status Write(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create ", fs::path(path).parent_path().string(), ": ", ec.message()));
  return WriteFileAtomic(path, text, mode);
}

absl::Status CopyInto(const std::string& from, const std::string& to, mode_t mode) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(from));
  return Write(to, bytes, mode);
}

const Json kLabels = {{"app.kubernetes.io/name", "casenode"}};

Json RestrictedContainer() {
  return {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true},
          {"capabilities", {{"drop", {"ALL"}}}}};
}

Json HealthProbe(int period, int failures) {
  return {{"exec", {{"command", {"/usr/bin/casectl", "--timeout-ms", "3000", "node", "health"}}}},
          {"periodSeconds", period},
          {"timeoutSeconds", 5},
          {"failureThreshold", failures}};
}

Json StatefulSet(const std::string& image, const std::vector<std::string>& policy_files) {
  Json network_items = Json::array();
  for (const char* f : {"manifest.json", "manifest.json.sig", "operator.pub", "ca.pem"}) {
    network_items.push_back({{"key", f}, {"path", f}});
  }
  for (const std::string& f : policy_files) network_items.push_back({{"key", f}, {"path", "policy/" + f}});
  const Json mounts_secret = {{"name", "secrets"}, {"mountPath", kSecretsDir}, {"readOnly", true}};
  const Json mounts_run = {{"name", "run"}, {"mountPath", kRunDir}};
  Json keys_init = {
      {"name", "keys"},
      {"image", image},
      // The node refuses key files it does not own or others can read: copy
      // the Secret's files (symbolic links, root-owned) as its own, 0600.
      {"command", {"/bin/sh", "-c", KubernetesKeysCommand()}},
      {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"limits", {{"memory", "64Mi"}}}}},
      {"securityContext", RestrictedContainer()},
      {"volumeMounts", {mounts_secret, mounts_run}}};
  Json node = {
      {"name", "casenode"},
      {"image", image},
      {"args", {"--config", StrCat(kNodeDir, "/casenode.toml")}},
      {"ports", {{{"name", "peer"}, {"containerPort", kKubernetesPeerPort}, {"protocol", "TCP"}}}},
      {"env", {{{"name", "CASENODE_SOCKET"}, {"value", StrCat(kRunDir, "/local.sock")}}}},
      // The Peer port speaks only mutual TLS, which the kubelet's gRPC probe
      // cannot: the probes ask the gRPC health service on the Local socket.
      {"startupProbe", HealthProbe(2, 60)},
      {"livenessProbe", HealthProbe(20, 3)},
      {"readinessProbe", HealthProbe(5, 2)},
      {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "256Mi"}}}, {"limits", {{"memory", "2Gi"}}}}},
      {"securityContext", RestrictedContainer()},
      {"volumeMounts",
       {{{"name", "node"}, {"mountPath", kNodeDir}, {"readOnly", true}},
        {{"name", "network"}, {"mountPath", kNetworkDir}, {"readOnly", true}},
        mounts_run,
        {{"name", "state"}, {"mountPath", kStateDir}}}}};
  Json pod = {
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"terminationGracePeriodSeconds", 30},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kContainerUid},
        {"runAsGroup", kContainerUid},
        {"fsGroup", kContainerUid},
        {"fsGroupChangePolicy", "OnRootMismatch"},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"initContainers", {keys_init}},
      {"containers", {node}},
      {"volumes",
       {{{"name", "node"}, {"configMap", {{"name", "casenode-node"}}}},
        {{"name", "network"}, {"configMap", {{"name", "casenode-network"}, {"items", network_items}}}},
        {{"name", "secrets"}, {"secret", {{"secretName", "casenode-keys"}, {"defaultMode", 0440}}}},
        {{"name", "run"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "1Mi"}}}}}}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", {{"name", "casenode"}, {"labels", kLabels}}},
          {"spec",
           {{"serviceName", "casenode"},
            {"replicas", 1},
            {"selector", {{"matchLabels", kLabels}}},
            {"template", {{"metadata", {{"labels", kLabels}}}, {"spec", pod}}},
            {"volumeClaimTemplates",
             {{{"metadata", {{"name", "state"}}},
               {"spec",
                {{"accessModes", {"ReadWriteOnce"}},
                 {"resources", {{"requests", {{"storage", "10Gi"}}}}}}}}}}}}};
}

Json Service() {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "casenode"}, {"labels", kLabels}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", kLabels},
            {"ports",
             {{{"name", "peer"}, {"port", kKubernetesPeerPort}, {"targetPort", "peer"}, {"protocol", "TCP"}}}}}}};
}

Json NetworkPolicy(const CreatedNetwork& created) {
  Json namespaces = Json::array();
  for (const CreatedNode& n : created.nodes) namespaces.push_back(KubernetesNamespace(n.org));
  const Json nodes = {
      {"namespaceSelector",
       {{"matchExpressions",
         {{{"key", "kubernetes.io/metadata.name"}, {"operator", "In"}, {"values", namespaces}}}}}},
      {"podSelector", {{"matchLabels", kLabels}}}};
  const Json peer_port = {{{"protocol", "TCP"}, {"port", kKubernetesPeerPort}}};
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", "casenode"}, {"labels", kLabels}}},
          {"spec",
           {{"podSelector", {{"matchLabels", kLabels}}},
            {"policyTypes", {"Ingress", "Egress"}},
            {"ingress", {{{"from", {nodes}}, {"ports", peer_port}}}},
            {"egress",
             {{{"to", {nodes}}, {"ports", peer_port}},
              // DNS, wherever the cluster serves it (kube-dns, a node-local cache).
              {{"ports", {{{"protocol", "UDP"}, {"port", 53}}, {{"protocol", "TCP"}, {"port", 53}}}}}}}}}};
}

Json DisruptionBudget() {
  // One node per organisation: a voluntary eviction (a drain) of a healthy
  // node waits for an operator, since the network answers "incomplete" while
  // it is away; an unhealthy one may be evicted.
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", {{"name", "casenode"}, {"labels", kLabels}}},
          {"spec",
           {{"minAvailable", 1},
            {"unhealthyPodEvictionPolicy", "AlwaysAllow"},
            {"selector", {{"matchLabels", kLabels}}}}}};
}

// ConfigMaps keep their names: a new manifest or a renewed certificate
// (casectl network renew) reaches the running pods as the kubelet refreshes
// the mounted files, and a reload puts it in force, with no restart. A name
// with a content hash would roll the StatefulSet on every such change.
Json Kustomization() {
  return {{"apiVersion", "kustomize.config.k8s.io/v1beta1"},
          {"kind", "Kustomization"},
          {"generatorOptions", {{"disableNameSuffixHash", true}}}};
}

absl::Status WriteBase(const CreatedNetwork& created, const std::string& image, const std::string& base) {
  std::vector<std::string> policy_files;
  for (const auto& e : fs::directory_iterator(created.dir + "/network/policy")) {
    if (e.is_regular_file() && e.path().extension() == ".toml") policy_files.push_back(e.path().filename());
  }
  std::sort(policy_files.begin(), policy_files.end());
  Json network_files = Json::array();
  for (const char* f : {"manifest.json", "manifest.json.sig", "operator.pub", "ca.pem"}) {
    RETURN_IF_ERROR(CopyInto(StrCat(created.dir, "/network/", f), StrCat(base, "/network/", f), 0644));
    network_files.push_back(StrCat("network/", f));
  }
  for (const std::string& f : policy_files) {
    RETURN_IF_ERROR(CopyInto(StrCat(created.dir, "/network/policy/", f), StrCat(base, "/network/policy/", f), 0644));
    network_files.push_back(StrCat("network/policy/", f));
  }
  RETURN_IF_ERROR(Write(base + "/statefulset.yaml", Yaml(StatefulSet(image, policy_files))));
  RETURN_IF_ERROR(Write(base + "/service.yaml", Yaml(Service())));
  RETURN_IF_ERROR(Write(base + "/networkpolicy.yaml", Yaml(NetworkPolicy(created))));
  RETURN_IF_ERROR(Write(base + "/poddisruptionbudget.yaml", Yaml(DisruptionBudget())));
  Json k = Kustomization();
  k["resources"] = {"statefulset.yaml", "service.yaml", "networkpolicy.yaml", "poddisruptionbudget.yaml"};
  k["configMapGenerator"] = {{{"name", "casenode-network"}, {"files", network_files}}};
  return Write(base + "/kustomization.yaml", Yaml(k));
}

absl::Status WriteOverlay(const NetworkPlan& plan, const CreatedNetwork& created, const CreatedNode& n,
                          const std::string& dir) {
  const std::string node_dir = StrCat(created.dir, "/", n.org);
  ASSIGN_OR_RETURN(node::NodeConfig local, node::NodeConfig::Load(n.config_path));
  node::NodeConfig config = local;
  config.data_dir = StrCat(kStateDir, "/data");
  config.manifest = StrCat(kNetworkDir, "/manifest.json");
  config.operator_key = StrCat(kNetworkDir, "/operator.pub");
  config.ca_cert = StrCat(kNetworkDir, "/ca.pem");
  config.identity = StrCat(kKeysDir, "/identity.sealed");
  config.tls_cert = StrCat(kNodeDir, "/cert.pem");
  config.peer_listen = StrCat("0.0.0.0:", kKubernetesPeerPort);
  config.policy_network = StrCat(kNetworkDir, "/policy");
  config.policy_local.clear();
  config.local_socket = StrCat(kRunDir, "/local.sock");
  config.metrics_listen.clear();

  Json secrets = Json::array();
  RETURN_IF_ERROR(CopyInto(node_dir + "/identity.sealed", dir + "/secrets/identity.sealed", 0600));
  secrets.push_back("secrets/identity.sealed");
  if (plan.node_passphrase.empty()) {
    RETURN_IF_ERROR(CopyInto(node_dir + "/master.key", dir + "/secrets/master.key", 0600));
    secrets.push_back("secrets/master.key");
    config.master_key = StrCat("file:", kKeysDir, "/master.key");
  } else {
    RETURN_IF_ERROR(Write(dir + "/secrets/master-passphrase", std::string(plan.node_passphrase.InsecureView()), 0600));
    secrets.push_back("secrets/master-passphrase");
    config.master_key = StrCat("passphrase-file:", kKeysDir, "/master-passphrase");
  }
  config.oprf_share.clear();
  if (!local.oprf_share.empty() && fs::exists(local.oprf_share)) {  // none when too few holders for a key
    RETURN_IF_ERROR(CopyInto(local.oprf_share, dir + "/secrets/oprf-share.sealed", 0600));
    secrets.push_back("secrets/oprf-share.sealed");
    config.oprf_share = StrCat(kKeysDir, "/oprf-share.sealed");
  }
  RETURN_IF_ERROR(Write(dir + "/node/casenode.toml", config.ToToml()));
  RETURN_IF_ERROR(CopyInto(node_dir + "/cert.pem", dir + "/node/cert.pem", 0644));

  const std::string ns = KubernetesNamespace(n.org);
  RETURN_IF_ERROR(Write(dir + "/namespace.yaml",
                        Yaml({{"apiVersion", "v1"},
                              {"kind", "Namespace"},
                              {"metadata",
                               {{"name", ns},
                                {"labels",
                                 {{"casenode.nl/network", created.network},
                                  {"casenode.nl/org", n.org},
                                  {"pod-security.kubernetes.io/enforce", "restricted"}}}}}})));
  Json k = Kustomization();
  k["namespace"] = ns;
  k["resources"] = {"namespace.yaml", "../../base"};
  k["configMapGenerator"] = {{{"name", "casenode-node"}, {"files", {"node/casenode.toml", "node/cert.pem"}}}};
  k["secretGenerator"] = {{{"name", "casenode-keys"}, {"type", "Opaque"}, {"files", secrets}}};
  return Write(dir + "/kustomization.yaml", Yaml(k));
}

}  // namespace

std::string KubernetesNamespace(const std::string& org) { return "casenode-" + org; }

std::string KubernetesEndpoint(const std::string& org) {
  return StrCat("casenode.", KubernetesNamespace(org), ".svc:", kKubernetesPeerPort);
}

std::string KubernetesKeysCommand() {
  return StrCat("mkdir -p ", kKeysDir, " && install -m 0600 ", kSecretsDir, "/* ", kKeysDir, "/");
}

absl::Status CheckKubernetesPlan(const NetworkPlan& plan) {
  // A DNS label (RFC 1123) for the namespace and Service names.
  for (const OrgSpec& spec : plan.orgs) {
    if (spec.org.size() > kKubernetesMaxOrgId || spec.org.front() == '-' || spec.org.back() == '-') {
      return absl::InvalidArgumentError(StrCat("org \"", spec.org, "\": on Kubernetes at most ", kKubernetesMaxOrgId,
                                               " characters, starting and ending with a letter or digit (its "
                                               "namespace is casenode-<org>, a DNS label)"));
    }
  }
  // A label value: at most 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends.
  const std::string& n = plan.network;
  const bool label_value =
      !n.empty() && n.size() <= 63 && std::isalnum(static_cast<unsigned char>(n.front())) &&
      std::isalnum(static_cast<unsigned char>(n.back())) &&
      std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!label_value) {
    return absl::InvalidArgumentError(
        "--network: on Kubernetes at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or "
        "digit (it is a label value)");
  }
  const std::string& image = plan.kubernetes_image;
  if (image.empty() || image.size() > 255 || !std::all_of(image.begin(), image.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("./:_@-").find(c) != std::string_view::npos;
      })) {
    return absl::InvalidArgumentError("--image: a container image reference (letters, digits and ./:_@-)");
  }
  std::error_code ec;
  const fs::path kdir(plan.kubernetes_dir);
  if (fs::exists(kdir, ec) && !(fs::is_directory(kdir, ec) && fs::is_empty(kdir, ec))) {
    return absl::AlreadyExistsError(StrCat("--kubernetes: ", plan.kubernetes_dir, " exists and is not an empty directory"));
  }
  return absl::OkStatus();
}

absl::Status WriteKubernetes(const NetworkPlan& plan, const CreatedNetwork& created, const std::string& kdir) {
  fs::path target = fs::absolute(kdir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "k8s/"
  const std::string staging = StrCat(target.string(), ".partial");
  std::error_code ec;
  fs::remove_all(staging, ec);
  absl::Status written = WriteBase(created, plan.kubernetes_image, staging + "/base");
  for (const CreatedNode& n : created.nodes) {
    if (written.ok()) written = WriteOverlay(plan, created, n, staging + "/overlays/" + n.org);
  }
  if (written.ok()) {
    fs::remove(target, ec);  // an empty directory, if any
    fs::rename(staging, target, ec);
    if (ec) written = absl::UnavailableError(StrCat("--kubernetes: cannot rename ", staging, ": ", ec.message()));
  }
  if (!written.ok()) fs::remove_all(staging, ec);
  return written;
}

}  // namespace casenode::provision
