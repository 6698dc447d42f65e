// TOML policy files to a Policy::Compiled: see internal/parse.h. The
// language is described in policy/README.md.
#include "policy/internal/parse.h"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "base/org_id.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::policy::internal {
namespace {

constexpr const char* kKindNoun[kKinds] = {"role", "action", "purpose", "data category", "legal basis"};
constexpr size_t kMaxBits[kKinds] = {64, 1u << 16, 1u << 16, 64, 32};
constexpr std::pair<const char*, Condition> kConditions[] = {
    {"case_member", kCaseMember}, {"case_active", kCaseActive}, {"within_retention", kWithinRetention}};

// Parses one file; errors are "file:line: problem".
class FileReader {
 public:
  FileReader(const Source& src) : src_(src) {}

  absl::Status Error(const toml::node* at, std::string_view problem) const {
    return absl::InvalidArgumentError(StrCat(src_.name, ":", at ? at->source().begin.line : 0, ": ", problem));
  }

  absl::StatusOr<toml::table> Parse() const {
    try {
      return toml::parse(src_.text, src_.name);
    } catch (const toml::parse_error& e) {
      return absl::InvalidArgumentError(
          StrCat(src_.name, ":", e.source().begin.line, ": ", std::string_view(e.description())));
    }
  }

  absl::StatusOr<std::vector<std::string>> Strings(const toml::table& t, std::string_view key,
                                                   std::string_view where) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) return Error(n, StrCat(where, key, ": expected a list of strings"));
    for (const toml::node& item : *a) {
      if (!item.is_string()) return Error(&item, StrCat(where, key, ": expected a list of strings"));
      out.push_back(std::string(item.as_string()->get()));
    }
    return out;
  }

  const std::string& name() const { return src_.name; }

 private:
  const Source& src_;
};

absl::Status CheckKeys(const FileReader& r, const toml::table& t, std::string_view where,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      return r.Error(&v, StrCat(where, "unknown key \"", Printable(k.str()), "\""));
    }
  }
  return absl::OkStatus();
}

bool ValidId(std::string_view id) {
  return !id.empty() && id.size() <= 100 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

// The [policy] name is shown next to the hash (`casectl policy show`) and is
// part of it: printable ASCII on one line, so it cannot pose as more lines of
// the readable canonical text or of a log.
bool ValidPolicyName(std::string_view name) {
  return !name.empty() && name.size() <= 100 &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

absl::Status ParseVocabulary(const FileReader& r, const toml::table& t, Vocab* v) {
  RETURN_IF_ERROR(CheckKeys(r, t, "[vocabulary] ", {"roles", "actions", "purposes", "categories", "legal_bases"}));
  for (int k = 0; k < kKinds; ++k) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, r.Strings(t, kKindKey[k], "vocabulary."));
    if (names.empty()) return r.Error(&t, StrCat("[vocabulary] ", kKindKey[k], ": must list at least one name"));
    if (names.size() > kMaxBits[k]) {
      return r.Error(t.get(kKindKey[k]), StrCat("[vocabulary] ", kKindKey[k], ": at most ", kMaxBits[k], " names"));
    }
    for (const auto& n : names) {
      if (!ValidId(n))
        return r.Error(t.get(kKindKey[k]), StrCat("[vocabulary] ", kKindKey[k], ": \"", Printable(n),
                                                  "\" is not a valid name (a-z, 0-9, . - _)"));
      if (!v->index[k].emplace(n, static_cast<int>(v->names[k].size())).second) {
        return r.Error(t.get(kKindKey[k]), StrCat("[vocabulary] ", kKindKey[k], ": \"", n, "\" is listed twice"));
      }
      v->names[k].push_back(n);
    }
  }
  return absl::OkStatus();
}

absl::Status ParseConsentSettings(const FileReader& r, const toml::table& t, ConsentSettings* out) {
  RETURN_IF_ERROR(
      CheckKeys(r, t, "[consent] ", {"status_cache_seconds", "on_issuer_unreachable", "max_stale_seconds"}));
  if (const toml::node* n = t.get("max_stale_seconds")) {
    if (!n->is_integer() || n->as_integer()->get() < 0 || n->as_integer()->get() > 7 * 86400) {
      return r.Error(n, "[consent] max_stale_seconds: expected an integer from 0 to 604800");
    }
    out->max_stale_seconds = static_cast<uint32_t>(n->as_integer()->get());
  }
  if (const toml::node* n = t.get("status_cache_seconds")) {
    if (!n->is_integer() || n->as_integer()->get() < 0 || n->as_integer()->get() > 86400) {
      return r.Error(n, "[consent] status_cache_seconds: expected an integer from 0 to 86400");
    }
    out->status_cache_seconds = static_cast<uint32_t>(n->as_integer()->get());
  }
  if (const toml::node* n = t.get("on_issuer_unreachable")) {
    const std::string v = n->is_string() ? std::string(n->as_string()->get()) : "";
    if (v != "deny" && v != "allow_stale") {
      return r.Error(n, "[consent] on_issuer_unreachable: expected \"deny\" or \"allow_stale\"");
    }
    out->allow_stale = v == "allow_stale";
  }
  return absl::OkStatus();
}

// A signal or closed case is kept up to 10 years; a test network may keep it
// for seconds.
constexpr int64_t kMinRetentionSeconds = 1;
constexpr int64_t kMaxRetentionSeconds = int64_t{3650} * 86400;

// One integer setting `key` of table `prefix` from `min` to `max`, if given.
absl::Status ParseBounded(const FileReader& r, const toml::table& t, std::string_view prefix, std::string_view key,
                          int64_t min, int64_t max, std::string_view note, uint64_t* out) {
  if (const toml::node* n = t.get(key)) {
    if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max) {
      return r.Error(n, StrCat(prefix, key, ": expected an integer from ", min, " to ", max, note));
    }
    *out = static_cast<uint64_t>(n->as_integer()->get());
  }
  return absl::OkStatus();
}

// [signals]: retention_seconds (its categories are read by ParseSignalCategories).
absl::Status ParseSignalSettings(const FileReader& r, const toml::table& t, SignalSettings* out) {
  RETURN_IF_ERROR(CheckKeys(r, t, "[signals] ", {"retention_seconds", "categories"}));
  return ParseBounded(r, t, "[signals] ", "retention_seconds", kMinRetentionSeconds, kMaxRetentionSeconds,
                      " (at most 3650 days)", &out->retention_seconds);
}

// [cases]: retention_seconds and each member's share of a case.
absl::Status ParseCaseSettings(const FileReader& r, const toml::table& t, CaseSettings* out) {
  constexpr std::string_view p = "[cases] ";
  RETURN_IF_ERROR(CheckKeys(r, t, p, {"retention_seconds", "member_contributions", "member_agreements", "member_bytes"}));
  RETURN_IF_ERROR(ParseBounded(r, t, p, "retention_seconds", kMinRetentionSeconds, kMaxRetentionSeconds,
                               " (at most 3650 days)", &out->retention_seconds));
  RETURN_IF_ERROR(ParseBounded(r, t, p, "member_contributions", 1, kMaxMemberContributions, "",
                               &out->member_contributions));
  RETURN_IF_ERROR(ParseBounded(r, t, p, "member_agreements", 1, kMaxMemberAgreements, "", &out->member_agreements));
  // At least one contribution of the largest size fits.
  return ParseBounded(r, t, p, "member_bytes", 32 * 1024, kMaxMemberBytes, " (bytes)", &out->member_bytes);
}

absl::Status ParseAuditSettings(const FileReader& r, const toml::table& t, AuditSettings* out) {
  RETURN_IF_ERROR(CheckKeys(r, t, "[audit] ", {"witnesses"}));
  if (const toml::node* n = t.get("witnesses")) {
    if (!n->is_integer() || n->as_integer()->get() < 1 || n->as_integer()->get() > 16) {
      return r.Error(n, "[audit] witnesses: expected an integer from 1 to 16");
    }
    out->witnesses = static_cast<uint64_t>(n->as_integer()->get());
  }
  return absl::OkStatus();
}

// [signals.categories]: per role, the data categories its signals may name.
absl::Status ParseSignalCategories(const FileReader& r, const toml::table& t, const Vocab& v,
                                   std::map<std::string, std::vector<std::string>, std::less<>>* out) {
  for (const auto& [role_key, node] : t) {
    const std::string role(role_key.str());
    const std::string where = StrCat("[signals.categories] ", role, ": ");
    if (v.Find(kRoles, role) < 0) return r.Error(&node, StrCat(where, "not a role of the vocabulary"));
    const toml::array* list = node.as_array();
    if (list == nullptr || list->empty()) return r.Error(&node, StrCat(where, "expected a non-empty list of data categories"));
    std::vector<std::string> categories;
    for (const toml::node& c : *list) {
      if (!c.is_string() || v.Find(kCategories, c.as_string()->get()) < 0) {
        return r.Error(&c, StrCat(where, "expected data categories of the vocabulary"));
      }
      categories.push_back(c.as_string()->get());
    }
    std::sort(categories.begin(), categories.end());
    categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
    (*out)[role] = std::move(categories);
  }
  return absl::OkStatus();
}

constexpr int64_t kMaxPerMinute = 1000000;
constexpr int64_t kMaxPerDay = 1000000000;

// [quota."<action>"]: alarm_percent, and per role { per_minute, per_day }.
absl::Status ParseQuotas(const FileReader& r, const toml::table& t, const Vocab& v,
                         std::map<std::string, std::map<std::string, Quota, std::less<>>, std::less<>>* out) {
  for (const auto& [action_key, node] : t) {
    const std::string action(action_key.str());
    const std::string where = StrCat("[quota.\"", action, "\"] ");
    if (v.Find(kActions, action) < 0) return r.Error(&node, StrCat(where, "names an action the vocabulary lacks"));
    const toml::table* table = node.as_table();
    if (table == nullptr) return r.Error(&node, StrCat(where, "expected a table"));
    uint32_t alarm_percent = 80;
    if (const toml::node* a = table->get("alarm_percent")) {
      if (!a->is_integer() || a->as_integer()->get() < 1 || a->as_integer()->get() > 100) {
        return r.Error(a, StrCat(where, "alarm_percent: expected an integer from 1 to 100"));
      }
      alarm_percent = static_cast<uint32_t>(a->as_integer()->get());
    }
    auto& roles = (*out)[action];
    for (const auto& [role_key, limit] : *table) {
      const std::string role(role_key.str());
      if (role == "alarm_percent") continue;
      if (v.Find(kRoles, role) < 0) {
        return r.Error(&limit, StrCat(where, "\"", role, "\": expected alarm_percent or a role of the vocabulary"));
      }
      const toml::table* l = limit.as_table();
      if (l == nullptr) return r.Error(&limit, StrCat(where, role, ": expected { per_minute = ..., per_day = ... }"));
      RETURN_IF_ERROR(CheckKeys(r, *l, StrCat(where, role, ": "), {"per_minute", "per_day"}));
      const toml::node* pm = l->get("per_minute");
      const toml::node* pd = l->get("per_day");
      if (pm == nullptr || !pm->is_integer() || pm->as_integer()->get() < 1 ||
          pm->as_integer()->get() > kMaxPerMinute) {
        return r.Error(pm ? pm : &limit, StrCat(where, role, ".per_minute: expected an integer from 1 to ", kMaxPerMinute));
      }
      if (pd == nullptr || !pd->is_integer() || pd->as_integer()->get() < pm->as_integer()->get() ||
          pd->as_integer()->get() > kMaxPerDay) {
        return r.Error(pd ? pd : &limit, StrCat(where, role, ".per_day: expected an integer from per_minute to ",
                                                kMaxPerDay));
      }
      roles[role] = Quota{static_cast<uint32_t>(pm->as_integer()->get()),
                          static_cast<uint32_t>(pd->as_integer()->get()), alarm_percent};
    }
    if (roles.empty()) return r.Error(&node, StrCat(where, "expected a quota for at least one role"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Rule> ParseRule(const FileReader& r, const toml::table& t, const Vocab& v, bool local) {
  Rule rule;
  rule.local = local;
  rule.origin = StrCat(r.name(), ":", t.source().begin.line);
  RETURN_IF_ERROR(CheckKeys(r, t, "rule: ",
                            {"id", "effect", "description", "roles", "orgs", "actions", "purposes", "categories",
                             "legal_bases", "consent", "conditions", "rate_limit_per_minute"}));
  const toml::node* id = t.get("id");
  if (id == nullptr || !id->is_string() || !ValidId(id->as_string()->get())) {
    return r.Error(id ? id : &t, "rule: id: expected a name of a-z, 0-9, . - _");
  }
  rule.id = id->as_string()->get();
  const std::string where = StrCat("rule \"", rule.id, "\": ");
  const toml::node* effect = t.get("effect");
  const std::string effect_text = effect && effect->is_string() ? std::string(effect->as_string()->get()) : "";
  if (effect_text == "allow") {
    rule.effect = Effect::kAllow;
  } else if (effect_text == "deny") {
    rule.effect = Effect::kDeny;
  } else {
    return r.Error(effect ? effect : &t, where + "effect: expected \"allow\" or \"deny\"");
  }
  if (local && rule.effect == Effect::kAllow) {
    return r.Error(effect,
                   where + "a local rule may only deny; an allow rule would widen access beyond the network policy");
  }

  for (Kind k : {kRoles, kActions, kPurposes, kCategories, kBases}) {
    ASSIGN_OR_RETURN(rule.lists[k], r.Strings(t, kKindKey[k], where));
    for (const auto& name : rule.lists[k]) {
      const int ix = v.Find(k, name);
      if (ix < 0)
        return r.Error(t.get(kKindKey[k]),
                       StrCat(where, kKindNoun[k], " \"", Printable(name), "\" is not in the vocabulary"));
      switch (k) {
        case kRoles:
          rule.roles |= uint64_t{1} << ix;
          break;
        case kActions:
          rule.actions.push_back(ix);
          break;
        case kPurposes:
          rule.purposes.push_back(ix);
          break;
        case kCategories:
          rule.categories |= uint64_t{1} << ix;
          break;
        case kBases:
          rule.bases |= uint32_t{1} << ix;
          break;
        default:
          break;
      }
    }
    std::sort(rule.lists[k].begin(), rule.lists[k].end());
  }
  ASSIGN_OR_RETURN(rule.orgs, r.Strings(t, "orgs", where));
  // Org ids are not in the vocabulary (they come from the manifest), so they
  // need their own check: the manifest's syntax, so no org can carry a
  // separator, a newline or any other text with it.
  for (size_t i = 0; i < rule.orgs.size(); ++i) {
    if (!ValidOrgId(rule.orgs[i])) {
      return r.Error(t.get("orgs")->as_array()->get(i), StrCat(where, "orgs: \"", Printable(rule.orgs[i]),
                                                               "\" is not an organisation id (", kOrgIdSyntax, ")"));
    }
  }
  std::sort(rule.orgs.begin(), rule.orgs.end());
  if (rule.roles == 0 && rule.orgs.empty()) return r.Error(&t, where + "names no requester: give roles or orgs");
  if (rule.actions.empty()) return r.Error(&t, where + "actions: must list at least one action");
  if (rule.purposes.empty()) return r.Error(&t, where + "purposes: must list at least one purpose");

  const toml::node* consent = t.get("consent");
  if (consent != nullptr) {
    const std::string c = consent->is_string() ? std::string(consent->as_string()->get()) : "";
    if (c == "required") {
      rule.consent_required = true;
    } else if (c != "not_required") {
      return r.Error(consent, where + "consent: expected \"required\" or \"not_required\"");
    }
  }
  ASSIGN_OR_RETURN(rule.condition_names, r.Strings(t, "conditions", where));
  for (const auto& name : rule.condition_names) {
    auto it = std::find_if(std::begin(kConditions), std::end(kConditions), [&](auto& c) { return name == c.first; });
    if (it == std::end(kConditions)) {
      return r.Error(t.get("conditions"), where + "conditions: \"" + Printable(name) +
                                              "\" is not case_member, case_active or within_retention");
    }
    rule.conditions |= it->second;
  }
  std::sort(rule.condition_names.begin(), rule.condition_names.end());
  if (const toml::node* rl = t.get("rate_limit_per_minute")) {
    if (!rl->is_integer() || rl->as_integer()->get() < 1 || rl->as_integer()->get() > 1000000) {
      return r.Error(rl, where + "rate_limit_per_minute: expected an integer from 1 to 1000000");
    }
    rule.rate_limit = static_cast<uint32_t>(rl->as_integer()->get());
  }
  if (rule.effect == Effect::kDeny &&
      (rule.bases != 0 || consent != nullptr || rule.conditions != 0 || rule.rate_limit != 0)) {
    return r.Error(
        &t,
        where +
            "a deny rule takes no legal_bases, consent, conditions or rate limit: it always denies what it matches");
  }
  return rule;
}

// Fills c->index from c->rules (sorted by id): for each (action, purpose),
// the deny rules, then the allow rules, each in id order. The index holds one
// entry per (action, purpose) of each rule: bound it, so a crafted policy
// cannot exhaust memory before its hash is even checked.
absl::Status IndexRules(Policy::Compiled* c) {
  constexpr size_t kMaxIndexEntries = 1 << 20;
  size_t entries = 0;
  for (const Rule& rule : c->rules) entries += rule.actions.size() * rule.purposes.size();
  if (entries > kMaxIndexEntries) {
    return absl::InvalidArgumentError(
        StrCat("policy: rules name ", entries, " (action, purpose) pairs; at most ", kMaxIndexEntries, " are allowed"));
  }
  for (Effect pass : {Effect::kDeny, Effect::kAllow}) {
    for (uint32_t i = 0; i < c->rules.size(); ++i) {
      const Rule& rule = c->rules[i];
      if (rule.effect != pass) continue;
      for (int a : rule.actions) {
        for (int p : rule.purposes) c->index[IndexKey(a, p)].push_back(i);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Policy::Compiled>> ParseSources(const std::vector<Source>& network,
                                                               const std::vector<Source>& local) {
  auto c = std::make_unique<Policy::Compiled>();
  struct Parsed {
    const Source* src;
    toml::table table;
    bool local;
  };
  std::vector<Parsed> parsed;
  const Source* vocab_source = nullptr;
  const Source* consent_source = nullptr;
  const Source* signals_source = nullptr;
  const Source* audit_source = nullptr;
  const Source* cases_source = nullptr;
  const Source* name_source = nullptr;
  for (bool is_local : {false, true}) {
    for (const Source& src : is_local ? local : network) {
      FileReader r(src);
      ASSIGN_OR_RETURN(toml::table t, r.Parse());
      RETURN_IF_ERROR(CheckKeys(
          r, t, "",
          is_local ? std::initializer_list<std::string_view>{"policy", "rule"}
                   : std::initializer_list<std::string_view>{"policy", "vocabulary", "consent", "signals", "cases",
                                                             "audit", "quota", "rule"}));
      // A settings table: in one network file at most, read by `parse`.
      auto settings = [&](std::string_view name, const Source*& from,
                          const std::function<absl::Status(const toml::table&)>& parse) -> absl::Status {
        if (const toml::node* n = t.get(name); n != nullptr && !n->is_table()) {
          return r.Error(n, StrCat("[", name, "]: expected a table"));
        }
        const toml::table* table = t[name].as_table();
        if (table == nullptr) return absl::OkStatus();
        if (from != nullptr) return r.Error(table, StrCat("[", name, "] is already declared in ", from->name));
        RETURN_IF_ERROR(parse(*table));
        from = &src;
        return absl::OkStatus();
      };
      RETURN_IF_ERROR(settings("consent", consent_source,
                               [&](const toml::table& x) { return ParseConsentSettings(r, x, &c->consent); }));
      RETURN_IF_ERROR(settings("signals", signals_source,
                               [&](const toml::table& x) { return ParseSignalSettings(r, x, &c->signals); }));
      RETURN_IF_ERROR(
          settings("cases", cases_source, [&](const toml::table& x) { return ParseCaseSettings(r, x, &c->cases); }));
      RETURN_IF_ERROR(
          settings("audit", audit_source, [&](const toml::table& x) { return ParseAuditSettings(r, x, &c->audit); }));
      if (const toml::table* v = t["vocabulary"].as_table()) {
        if (vocab_source != nullptr) {
          return r.Error(v, StrCat("[vocabulary] is already declared in ", vocab_source->name));
        }
        RETURN_IF_ERROR(ParseVocabulary(r, *v, &c->vocab));
        vocab_source = &src;
      }
      if (const toml::table* meta = t["policy"].as_table()) {
        RETURN_IF_ERROR(CheckKeys(r, *meta, "[policy] ", {"name", "version", "description"}));
        // The name is part of the hash, so it must come from one file: with
        // two, which one won would depend on file names.
        const toml::node* n = meta->get("name");
        if (!is_local && n != nullptr) {
          if (name_source != nullptr)
            return r.Error(n, StrCat("[policy] name is already declared in ", name_source->name));
          if (!n->is_string() || !ValidPolicyName(n->as_string()->get())) {
            return r.Error(n, "[policy] name: expected 1 to 100 printable ASCII characters on one line");
          }
          c->name = n->as_string()->get();
          name_source = &src;
        }
      }
      parsed.push_back({&src, std::move(t), is_local});
    }
  }
  if (vocab_source == nullptr) {
    return absl::InvalidArgumentError("policy: no [vocabulary] in the network policy files");
  }
  // Quotas name actions and roles: read once the vocabulary is known. One
  // action's quota is declared in one file only.
  std::map<std::string, std::string> quota_source;
  for (const Parsed& p : parsed) {
    const toml::node* q = p.table.get("quota");
    if (q == nullptr) continue;
    FileReader r(*p.src);
    if (!q->is_table()) return r.Error(q, "[quota]: expected tables [quota.\"<action>\"]");
    for (const auto& [action, node] : *q->as_table()) {
      auto [it, fresh] = quota_source.try_emplace(std::string(action.str()), p.src->name);
      if (!fresh) {
        return r.Error(&node, StrCat("[quota.\"", action.str(), "\"] is already declared in ", it->second));
      }
    }
    RETURN_IF_ERROR(ParseQuotas(r, *q->as_table(), c->vocab, &c->quotas));
  }
  if (signals_source != nullptr) {
    for (const Parsed& p : parsed) {
      if (p.src != signals_source) continue;
      const toml::node* n = p.table["signals"]["categories"].node();
      if (n == nullptr) break;
      FileReader r(*p.src);
      if (!n->is_table() || n->as_table()->empty()) {
        return r.Error(n, "[signals.categories]: expected a table of roles (leave it out to allow any category)");
      }
      RETURN_IF_ERROR(ParseSignalCategories(r, *n->as_table(), c->vocab, &c->signal_categories));
    }
  }
  std::set<std::string> ids;
  for (const Parsed& p : parsed) {
    FileReader r(*p.src);
    const toml::node* rules = p.table.get("rule");
    if (rules == nullptr) continue;
    const toml::array* arr = rules->as_array();
    if (arr == nullptr) return r.Error(rules, "rule: expected [[rule]] tables");
    for (const toml::node& n : *arr) {
      if (!n.is_table()) return r.Error(&n, "rule: expected [[rule]] tables");
      ASSIGN_OR_RETURN(Rule rule, ParseRule(r, *n.as_table(), c->vocab, p.local));
      if (!ids.insert(rule.id).second) return r.Error(&n, StrCat("rule \"", rule.id, "\": id is used twice"));
      c->rules.push_back(std::move(rule));
    }
  }
  std::sort(c->rules.begin(), c->rules.end(), [](const Rule& a, const Rule& b) { return a.id < b.id; });
  RETURN_IF_ERROR(IndexRules(c.get()));
  c->consent_basis = c->vocab.Find(kBases, "consent");
  return c;
}

}  // namespace casenode::policy::internal
