// A regional network on Kubernetes: what `casectl network init DIR
// --kubernetes KDIR` writes beside the network it creates. Each organisation
// runs its node in its own namespace (casenode-<org>) as a one-replica
// StatefulSet; the manifest names each node by its Service's cluster DNS name.
//
// KDIR/base/             the network's objects, shared by every organisation
//                        (kustomize base): StatefulSet, Service, NetworkPolicy
//                        (only the network's nodes, on the Peer port; DNS out),
//                        PodDisruptionBudget, and the ConfigMap of the network's
//                        files (manifest, signature, operator key, CA, policy)
// KDIR/overlays/<org>/  one overlay per organisation: its Namespace (Pod
//                        Security "restricted"), the ConfigMap of its
//                        casenode.toml and certificate, and the Secret of its
//                        key material (mode 0600 files)
//
// In the pod, an init container copies the Secret's files into a memory-backed
// volume (/run/casenode, also the Local socket's) as the node's user, mode
// 0600 (the node refuses key files it does not own); the node's state lives on
// the persistent volume.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "provision/network_setup.h"

namespace casenode::provision {

inline constexpr int kKubernetesPeerPort = 7101;
inline constexpr int kContainerUid = 10001;  // the casenode user of deploy/container/Containerfile
inline constexpr size_t kKubernetesMaxOrgId = 54;  // "casenode-" + org within a 63-character namespace

// The namespace and Peer endpoint of `org`'s node on a cluster (the Service's
// name within the cluster's DNS search path, whatever the cluster domain).
std::string KubernetesNamespace(const std::string& org);
std::string KubernetesEndpoint(const std::string& org);

// The init container's command: the Secret's files, root-owned, copied as
// the node's own, mode 0600.
std::string KubernetesKeysCommand();

// The plan's names as Kubernetes takes them (DNS labels, label values, an
// image reference), and `plan.kubernetes_dir` new, or an empty directory.
[[nodiscard]] absl::Status CheckKubernetesPlan(const NetworkPlan& plan);

// Writes the manifests into `kdir` for the network CreateNetwork made from
// `plan` (CreateNetwork calls it when plan.kubernetes_dir is set, after
// CheckKubernetesPlan). Writes a sibling directory first and renames it: a
// failure leaves no partial tree.
[[nodiscard]] absl::Status WriteKubernetes(const NetworkPlan& plan, const CreatedNetwork& created,
                                           const std::string& kdir);

}  // namespace casenode::provision
