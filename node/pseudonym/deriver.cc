#include "node/pseudonym/deriver.h"

#include <sodium.h>

#include <algorithm>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

oprf::PublicShares PublicSharesOf(const network::Manifest& m) {
  oprf::PublicShares shares;
  shares.threshold = m.oprf_threshold;
  shares.public_key = m.oprf_public_key;
  oprf::HolderIndex n = 0;
  for (const auto& h : m.oprf_holders) n = std::max(n, h.index);
  shares.commitments.resize(n);
  for (const auto& h : m.oprf_holders) shares.commitments[h.index - 1] = h.commitment;
  return shares;
}

// A reply as a share of `holder`, its shape checked; the proof is checked later.
absl::StatusOr<oprf::ShareEvaluation> ShareOf(const network::OprfHolder& holder, const v1::EvaluatePseudonymResponse& r) {
  if (r.holder_index() != holder.index || r.evaluated_element().size() != oprf::kElementBytes ||
      r.proof().size() != oprf::kProofBytes) {
    return Error(Reason::kOprfProofFailed, "the holder's answer is not a share of its index");
  }
  oprf::ShareEvaluation share;
  share.holder = holder.index;
  std::copy(r.evaluated_element().begin(), r.evaluated_element().end(), share.element.begin());
  std::copy(r.proof().begin(), r.proof().end(), share.proof.begin());
  return share;
}

// A refusal by the holder's policy (or of the request's form): asking another
// holder the same would be refused alike, and recorded there too.
bool RefusedByPolicy(const absl::Status& s) {
  return s.code() == absl::StatusCode::kPermissionDenied || s.code() == absl::StatusCode::kInvalidArgument;
}

}  // namespace

PseudonymDeriver::PseudonymDeriver(const network::Network& network, PeerClient& peers) : network_(network), peers_(peers) {}

absl::StatusOr<Derivation> PseudonymDeriver::Derive(const Bsn& bsn, std::string_view purpose,
                                                    std::string_view legal_basis, const std::string& trace_id,
                                                    PeerClient::Deadline deadline) {
  const std::shared_ptr<const network::Manifest> manifest = network_.manifest();
  const uint32_t t = manifest->oprf_threshold;
  if (manifest->oprf_holders.empty() || t == 0) {
    return absl::FailedPreconditionError("the network manifest names no pseudonym key holders");
  }
  ASSIGN_OR_RETURN(oprf::Blinded blinded, oprf::Blind(oprf::Mode::kVoprf, bsn.CleartextDigits()));
  v1::EvaluatePseudonymRequest request;
  request.set_blinded_element(std::string(blinded.element().begin(), blinded.element().end()));
  request.set_purpose(std::string(purpose));
  request.set_legal_basis(std::string(legal_basis));

  // Holders in random order, so that no t holders see every request.
  std::vector<const network::OprfHolder*> order;
  for (const auto& h : manifest->oprf_holders) order.push_back(&h);
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[randombytes_uniform(static_cast<uint32_t>(i))]);
  }

  Derivation out;
  std::vector<oprf::ShareEvaluation> good;
  size_t next = 0;
  while (good.size() < t && next < order.size() && std::chrono::system_clock::now() < deadline) {
    const size_t want = std::min<size_t>(t - good.size(), order.size() - next);
    std::vector<const network::OprfHolder*> round(order.begin() + static_cast<std::ptrdiff_t>(next),
                                               order.begin() + static_cast<std::ptrdiff_t>(next + want));
    next += want;
    std::vector<const network::ManifestNode*> nodes;
    for (const auto* h : round) nodes.push_back(manifest->FindOrg(h->org));
    auto replies = peers_.EvaluatePseudonym(nodes, request, trace_id, deadline);
    for (size_t i = 0; i < round.size(); ++i) {
      const network::OprfHolder& holder = *round[i];
      absl::Status status = replies[i].status;
      if (RefusedByPolicy(status)) return Annotate(StrCat("pseudonym: key holder ", holder.org), status);
      if (status.ok()) {
        auto share = ShareOf(holder, replies[i].response);
        if (share.ok()) {
          status = oprf::VerifyShare(holder.commitment, blinded.element(), *share);
          if (status.ok()) good.push_back(*std::move(share));
        } else {
          status = share.status();
        }
      }
      out.holders.push_back({holder.org, holder.index, std::move(status)});
    }
  }
  if (good.size() < t) {
    std::string failed;
    for (size_t i = next; i < order.size(); ++i) {
      out.holders.push_back(
          {order[i]->org, order[i]->index, absl::DeadlineExceededError("not asked: the derivation ran out of time")});
    }
    for (const auto& h : out.holders) {
      if (h.status.ok()) continue;
      const Reason reason = ReasonOf(h.status);
      failed += StrCat(failed.empty() ? "" : ", ", h.org, " (",
                       reason == Reason::kNone ? absl::StatusCodeToString(h.status.code()) : ReasonName(reason), ")");
    }
    return Error(Reason::kOprfTooFewShares,
                 StrCat("pseudonym: ", good.size(), " of the ", t,
                        " key holders needed gave a valid share; failed: ", failed.empty() ? "none asked" : failed));
  }
  std::vector<oprf::HolderIndex> indices;
  for (const auto& s : good) indices.push_back(s.holder);
  std::sort(indices.begin(), indices.end());
  ASSIGN_OR_RETURN(std::shared_ptr<const oprf::HolderSet> set, HolderSetFor(manifest, std::move(indices)));
  ASSIGN_OR_RETURN(oprf::Output output, set->CombineAndFinalize(bsn.CleartextDigits(), blinded, good,
                                                                oprf::HolderSet::Proofs::kSharesVerified));
  std::copy_n(output.begin(), out.pseudonym.size(), out.pseudonym.begin());
  sodium_memzero(output.data(), output.size());
  return out;
}

absl::StatusOr<std::shared_ptr<const oprf::HolderSet>> PseudonymDeriver::HolderSetFor(
    const std::shared_ptr<const network::Manifest>& manifest, std::vector<oprf::HolderIndex> indices) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_for_ != manifest) {
    holder_sets_.clear();
    cached_for_ = manifest;
  }
  if (auto it = holder_sets_.find(indices); it != holder_sets_.end()) return it->second;
  ASSIGN_OR_RETURN(oprf::HolderSet set, oprf::HolderSet::New(PublicSharesOf(*manifest), indices));
  auto shared = std::make_shared<const oprf::HolderSet>(std::move(set));
  holder_sets_.emplace(std::move(indices), shared);
  return shared;
}

}  // namespace casenode::node
