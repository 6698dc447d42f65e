// The Policy facade: FromSources and the accessors. A policy is parsed in
// internal/parse.cc, hashed in internal/canonical.cc and decides requests in
// evaluate.cc; its files are read in sources.cc.
#include "policy/policy.h"

#include <algorithm>

#include "base/status.h"
#include "policy/internal/canonical.h"
#include "policy/internal/compiled.h"
#include "policy/internal/parse.h"

namespace casenode::policy {

Policy::Policy(std::unique_ptr<Compiled> c) : c_(std::move(c)) {}
Policy::~Policy() = default;

absl::StatusOr<std::shared_ptr<const Policy>> Policy::FromSources(const std::vector<Source>& network,
                                                                  const std::vector<Source>& local) {
  ASSIGN_OR_RETURN(std::unique_ptr<Compiled> c, internal::ParseSources(network, local));
  internal::SetHashes(c.get());
  return std::shared_ptr<const Policy>(new Policy(std::move(c)));
}

const std::string& Policy::hash() const { return c_->hash; }
const std::string& Policy::network_hash() const { return c_->network_hash; }
const std::string& Policy::CanonicalBytes() const { return c_->canonical_bytes; }
std::string Policy::CanonicalText() const { return internal::CanonicalText(*c_); }
size_t Policy::rule_count() const { return c_->rules.size(); }
const std::string& Policy::name() const { return c_->name; }
bool Policy::NetworkAllowsRole(std::string_view role, std::string_view action) const {
  auto has = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  return std::any_of(c_->rules.begin(), c_->rules.end(), [&](const internal::Rule& r) {
    return r.effect == Effect::kAllow && !r.local && has(r.lists[internal::kRoles], role) &&
           has(r.lists[internal::kActions], action);
  });
}

bool Policy::Knows(Term term, std::string_view name) const {
  internal::Kind kind = internal::kBases;
  switch (term) {
    case Term::kRole: kind = internal::kRoles; break;
    case Term::kAction: kind = internal::kActions; break;
    case Term::kPurpose: kind = internal::kPurposes; break;
    case Term::kCategory: kind = internal::kCategories; break;
    case Term::kLegalBasis: kind = internal::kBases; break;
  }
  return c_->vocab.Find(kind, std::string(name)) >= 0;
}

const ConsentSettings& Policy::consent_settings() const { return c_->consent; }
const SignalSettings& Policy::signal_settings() const { return c_->signals; }
const CaseSettings& Policy::case_settings() const { return c_->cases; }
const AuditSettings& Policy::audit_settings() const { return c_->audit; }

bool Policy::SignalCategoryAllowed(std::string_view role, std::string_view category) const {
  if (c_->signal_categories.empty()) return true;
  const auto it = c_->signal_categories.find(role);
  return it != c_->signal_categories.end() &&
         std::binary_search(it->second.begin(), it->second.end(), category, std::less<>());
}

const Quota* Policy::quota(std::string_view action, std::string_view role) const {
  const auto a = c_->quotas.find(action);
  if (a == c_->quotas.end()) return nullptr;
  const auto r = a->second.find(role);
  return r == a->second.end() ? nullptr : &r->second;
}

}  // namespace casenode::policy
