#include "policy/policy.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "base/canonical.h"
#include "base/encoding.h"
#include "base/file.h"
#include "base/org_id.h"
#include "base/sha256.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::policy {
namespace {

enum Kind { kRoles = 0, kActions, kPurposes, kCategories, kBases, kKinds };
constexpr const char* kKindKey[kKinds] = {"roles", "actions", "purposes", "categories", "legal_bases"};
constexpr const char* kKindNoun[kKinds] = {"role", "action", "purpose", "data category", "legal basis"};
constexpr size_t kMaxBits[kKinds] = {64, 1u << 16, 1u << 16, 64, 32};

enum Condition : uint8_t { kCaseMember = 1, kCaseActive = 2, kWithinRetention = 4 };
constexpr std::pair<const char*, Condition> kConditions[] = {
    {"case_member", kCaseMember}, {"case_active", kCaseActive}, {"within_retention", kWithinRetention}};

struct Vocab {
  std::vector<std::string> names[kKinds];
  std::unordered_map<std::string, int> index[kKinds];
  int Find(Kind k, const std::string& name) const {
    auto it = index[k].find(name);
    return it == index[k].end() ? -1 : it->second;
  }
};

struct Rule {
  std::string id;
  Effect effect = Effect::kUnspecified;
  bool local = false;
  std::string origin;
  uint64_t roles = 0;
  std::vector<std::string> orgs;
  std::vector<int> actions, purposes;
  uint64_t categories = 0;
  uint32_t bases = 0;
  bool consent_required = false;
  uint8_t conditions = 0;
  uint32_t rate_limit = 0;
  std::vector<std::string> lists[kKinds];  // names as written, sorted (canonical form, explain)
  std::vector<std::string> condition_names;
};

// A request translated into the policy's vocabulary.
struct Interned {
  uint64_t role_bit = 0;
  int action = -1, purpose = -1;
  uint64_t categories = 0;
  int basis = -1;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

uint64_t IndexKey(int action, int purpose) { return (uint64_t(uint32_t(action)) << 32) | uint32_t(purpose); }

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

}  // namespace

struct Policy::Compiled {
  std::string name;
  ConsentSettings consent;
  SignalSettings signals;
  CaseSettings cases;
  AuditSettings audit;
  Vocab vocab;
  std::vector<Rule> rules;                                    // sorted by id
  std::unordered_map<uint64_t, std::vector<uint32_t>> index;  // (action, purpose) -> deny rules, then allow rules
  std::string canonical_bytes;
  std::string network_hash;
  std::string hash;
  int consent_basis = -1;
};

namespace {

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

// [signals] or [cases]: retention_seconds.
absl::Status ParseRetention(const FileReader& r, const toml::table& t, std::string_view table, uint64_t* out) {
  const std::string prefix = StrCat("[", table, "] ");
  RETURN_IF_ERROR(CheckKeys(r, t, prefix, {"retention_seconds"}));
  if (const toml::node* n = t.get("retention_seconds")) {
    if (!n->is_integer() || n->as_integer()->get() < kMinRetentionSeconds ||
        n->as_integer()->get() > kMaxRetentionSeconds) {
      return r.Error(n, StrCat(prefix, "retention_seconds: expected an integer from ", kMinRetentionSeconds, " to ",
                               kMaxRetentionSeconds, " (at most 3650 days)"));
    }
    *out = static_cast<uint64_t>(n->as_integer()->get());
  }
  return absl::OkStatus();
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

// The policy's canonical bytes; the policy hash is their SHA-256. Every
// field is length-prefixed by CanonicalWriter (base/canonical.h):
//
//   string:  u32be length || bytes
//   list:    u32be count || each string as above, sorted bytewise
//   integer: u64be;  flag: u64be 0 or 1
//
// so no name can run into the next field or rule, whatever it holds. In order:
//
//   "casenode-policy/v5"                        domain tag and format version
//   name                                        [policy] name ("" if none)
//   roles, actions, purposes, categories, legal_bases     the vocabulary (5 lists)
//   status_cache_seconds, allow_stale, max_stale_seconds   [consent] (integer, flag, integer)
//   retention_seconds                           [signals] (integer)
//   retention_seconds                           [cases] (integer)
//   witnesses                                   [audit] (integer)
//   rule count                                  integer, then for each rule by id:
//     id, effect ("allow" or "deny"), local (flag),
//     roles, orgs, actions, purposes, categories, legal_bases (6 lists),
//     consent_required (flag), conditions (list), rate_limit_per_minute (integer)
//
// That is everything a decision depends on (the vocabulary's order is not:
// requests are interned by name), and the name shown with the hash;
// descriptions, comments, [policy] version, file names and rule origins are
// left out, as they decide nothing. Two policies with the same bytes therefore
// decide every request identically. A new layout needs a new domain tag
// (v2 had no [signals]; v3 added retention_seconds; v4 [audit] witnesses;
// v5 [cases] retention_seconds).
// policy/README.md documents the same format; a golden test pins it.
std::string CanonicalBytes(const Policy::Compiled& c, bool with_local) {
  CanonicalWriter w("casenode-policy/v5");
  w.String(c.name);
  for (int k = 0; k < kKinds; ++k) w.List(c.vocab.names[k]);
  w.U64(c.consent.status_cache_seconds).Bool(c.consent.allow_stale).U64(c.consent.max_stale_seconds);
  w.U64(c.signals.retention_seconds);
  w.U64(c.cases.retention_seconds);
  w.U64(c.audit.witnesses);
  const auto counted =
      std::count_if(c.rules.begin(), c.rules.end(), [&](const Rule& r) { return with_local || !r.local; });
  w.U64(static_cast<uint64_t>(counted));
  for (const Rule& r : c.rules) {
    if (r.local && !with_local) continue;
    w.String(r.id).String(r.effect == Effect::kAllow ? "allow" : "deny").Bool(r.local);
    w.List(r.lists[kRoles]).List(r.orgs).List(r.lists[kActions]).List(r.lists[kPurposes]);
    w.List(r.lists[kCategories]).List(r.lists[kBases]);
    w.Bool(r.consent_required).List(r.condition_names).U64(r.rate_limit);
  }
  return std::move(w).bytes();
}

// The same content as CanonicalBytes, one line per item, for people and logs.
// It is not hashed; it stays unambiguous because every name in it is validated
// (ids and vocabulary a-z 0-9 . - _, orgs a-z 0-9 -, the name printable ASCII).
std::string CanonicalText(const Policy::Compiled& c) {
  std::string out = "casenode-policy/v5\n";
  out += StrCat("policy name=", c.name, "\n");
  for (int k = 0; k < kKinds; ++k) {
    std::vector<std::string> names = c.vocab.names[k];
    std::sort(names.begin(), names.end());
    out += StrCat("vocabulary ", kKindKey[k], "=", Join(names), "\n");
  }
  out += StrCat("consent status_cache_seconds=", c.consent.status_cache_seconds,
                " on_issuer_unreachable=", c.consent.allow_stale ? "allow_stale" : "deny",
                " max_stale_seconds=", c.consent.max_stale_seconds, "\n");
  out += StrCat("signals retention_seconds=", c.signals.retention_seconds, "\n");
  out += StrCat("cases retention_seconds=", c.cases.retention_seconds, "\n");
  out += StrCat("audit witnesses=", c.audit.witnesses, "\n");
  for (const Rule& r : c.rules) {
    out +=
        StrCat("rule id=", r.id, " effect=", r.effect == Effect::kAllow ? "allow" : "deny", " local=", r.local ? 1 : 0,
               " roles=", Join(r.lists[kRoles]), " orgs=", Join(r.orgs), " actions=", Join(r.lists[kActions]),
               " purposes=", Join(r.lists[kPurposes]), " categories=", Join(r.lists[kCategories]),
               " legal_bases=", Join(r.lists[kBases]), " consent=", r.consent_required ? "required" : "not_required",
               " conditions=", Join(r.condition_names), " rate_limit_per_minute=", r.rate_limit, "\n");
  }
  return out;
}

}  // namespace

Policy::Policy(std::unique_ptr<Compiled> c) : c_(std::move(c)) {}
Policy::~Policy() = default;

absl::StatusOr<std::shared_ptr<const Policy>> Policy::FromSources(const std::vector<Source>& network,
                                                                  const std::vector<Source>& local) {
  auto c = std::make_unique<Compiled>();
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
                                                             "audit", "rule"}));
      if (const toml::table* consent = t["consent"].as_table()) {
        if (consent_source != nullptr) {
          return r.Error(consent, StrCat("[consent] is already declared in ", consent_source->name));
        }
        RETURN_IF_ERROR(ParseConsentSettings(r, *consent, &c->consent));
        consent_source = &src;
      }
      for (auto [table, from, retention] :
           {std::tuple{"signals", &signals_source, &c->signals.retention_seconds},
            std::tuple{"cases", &cases_source, &c->cases.retention_seconds}}) {
        if (const toml::node* n = t.get(table); n != nullptr && !n->is_table()) {
          return r.Error(n, StrCat("[", table, "]: expected a table"));
        }
        if (const toml::table* settings = t[table].as_table()) {
          if (*from != nullptr) {
            return r.Error(settings, StrCat("[", table, "] is already declared in ", (*from)->name));
          }
          RETURN_IF_ERROR(ParseRetention(r, *settings, table, retention));
          *from = &src;
        }
      }
      if (const toml::node* n = t.get("audit"); n != nullptr && !n->is_table()) {
        return r.Error(n, "[audit]: expected a table");
      }
      if (const toml::table* audit = t["audit"].as_table()) {
        if (audit_source != nullptr) {
          return r.Error(audit, StrCat("[audit] is already declared in ", audit_source->name));
        }
        RETURN_IF_ERROR(ParseAuditSettings(r, *audit, &c->audit));
        audit_source = &src;
      }
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
  // The index holds one entry per (action, purpose) of each rule: bound it, so
  // a crafted policy cannot exhaust memory before its hash is even checked.
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
  c->consent_basis = c->vocab.Find(kBases, "consent");
  c->canonical_bytes = policy::CanonicalBytes(*c, /*with_local=*/true);
  c->hash = Sha256Hex(c->canonical_bytes);
  const bool has_local = std::any_of(c->rules.begin(), c->rules.end(), [](const Rule& r) { return r.local; });
  c->network_hash = has_local ? Sha256Hex(policy::CanonicalBytes(*c, /*with_local=*/false)) : c->hash;
  return std::shared_ptr<const Policy>(new Policy(std::move(c)));
}

absl::StatusOr<std::vector<Source>> Policy::ReadNetworkSources(const std::string& network_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(network_dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".toml") paths.push_back(e.path().string());
  }
  if (ec) return absl::NotFoundError(StrCat("policy: cannot read directory ", network_dir, ": ", ec.message()));
  if (paths.empty()) return absl::NotFoundError(StrCat("policy: no .toml files in ", network_dir));
  std::sort(paths.begin(), paths.end());
  return ReadFiles(paths);
}

absl::StatusOr<std::vector<Source>> Policy::ReadFiles(const std::vector<std::string>& files) {
  std::vector<Source> out;
  for (const auto& p : files) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(p));
    out.push_back({p, std::move(text)});
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Load(const std::string& network_dir,
                                                           const std::vector<std::string>& local_files) {
  ASSIGN_OR_RETURN(std::vector<Source> network, ReadNetworkSources(network_dir));
  ASSIGN_OR_RETURN(std::vector<Source> local, ReadFiles(local_files));
  return FromSources(network, local);
}

const std::string& Policy::hash() const { return c_->hash; }
const std::string& Policy::network_hash() const { return c_->network_hash; }
const std::string& Policy::CanonicalBytes() const { return c_->canonical_bytes; }
std::string Policy::CanonicalText() const { return policy::CanonicalText(*c_); }
size_t Policy::rule_count() const { return c_->rules.size(); }
const std::string& Policy::name() const { return c_->name; }
bool Policy::NetworkAllowsRole(std::string_view role, std::string_view action) const {
  auto has = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  return std::any_of(c_->rules.begin(), c_->rules.end(), [&](const Rule& r) {
    return r.effect == Effect::kAllow && !r.local && has(r.lists[kRoles], role) && has(r.lists[kActions], action);
  });
}

bool Policy::Knows(Term term, std::string_view name) const {
  Kind kind = kBases;
  switch (term) {
    case Term::kRole: kind = kRoles; break;
    case Term::kAction: kind = kActions; break;
    case Term::kPurpose: kind = kPurposes; break;
    case Term::kCategory: kind = kCategories; break;
    case Term::kLegalBasis: kind = kBases; break;
  }
  return c_->vocab.Find(kind, std::string(name)) >= 0;
}

const ConsentSettings& Policy::consent_settings() const { return c_->consent; }
const SignalSettings& Policy::signal_settings() const { return c_->signals; }
const CaseSettings& Policy::case_settings() const { return c_->cases; }
const AuditSettings& Policy::audit_settings() const { return c_->audit; }

namespace {

struct Verdict {
  bool applies = false;  // the rule is about this request (requester, action, purpose, categories)
  bool passed = false;   // for allow rules: every requirement holds; for deny rules: equal to applies
  Reason reason = Reason::kNone;
  std::vector<std::string> consents_used;
};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The failure reason of a receipt for this request, or kNone if it covers it.
Reason ReceiptFailure(const ConsentFact& f, const Request& req) {
  switch (f.status) {
    case ConsentStatus::kValid:
      break;
    case ConsentStatus::kForged:
      return Reason::kConsentForged;
    case ConsentStatus::kRevoked:
      return Reason::kConsentRevoked;
    case ConsentStatus::kExpired:
      return Reason::kConsentExpired;
    case ConsentStatus::kAgeRule:
      return Reason::kConsentAgeRule;
    case ConsentStatus::kUnknownIssuer:
      return Reason::kConsentUnknownIssuer;
    case ConsentStatus::kIssuerUnreachable:
      return Reason::kConsentIssuerUnreachable;
    default:
      return Reason::kConsentForged;
  }
  // A receipt about another child, or a request about no child at all.
  if (req.subject.empty() || f.subject != req.subject) return Reason::kConsentOutOfScope;
  if (!Contains(f.purposes, req.purpose)) return Reason::kConsentOutOfScope;
  for (const auto& c : req.categories) {
    if (!Contains(f.categories, c)) return Reason::kConsentOutOfScope;
  }
  if (!Contains(f.recipient_roles, req.requester_role) && !Contains(f.recipient_orgs, req.requester_org)) {
    return Reason::kConsentOutOfScope;
  }
  return Reason::kNone;
}

// Fixed precedence, so the reason does not depend on the order receipts were
// attached: the consent reasons are numbered most serious first.
bool MoreSerious(Reason a, Reason b) { return static_cast<int>(a) < static_cast<int>(b); }

Verdict Check(const Policy::Compiled& c, const Rule& rule, const Request& req, const Interned& in, std::string* why) {
  Verdict v;
  auto note = [&](std::string text) {
    if (why != nullptr) *why = std::move(text);
  };
  if (std::find(rule.actions.begin(), rule.actions.end(), in.action) == rule.actions.end()) {
    note(StrCat("action ", req.action, " is not in [", Join(rule.lists[kActions]), "]"));
    return v;
  }
  if (std::find(rule.purposes.begin(), rule.purposes.end(), in.purpose) == rule.purposes.end()) {
    note(StrCat("purpose ", req.purpose, " is not in [", Join(rule.lists[kPurposes]), "]"));
    return v;
  }
  if ((rule.roles & in.role_bit) == 0 && !Contains(rule.orgs, req.requester_org)) {
    note(StrCat("requester ", req.requester_org, " (", req.requester_role, ") is not in roles [",
                Join(rule.lists[kRoles]), "] or orgs [", Join(rule.orgs), "]"));
    return v;
  }
  if (rule.effect == Effect::kDeny) {
    if (rule.categories != 0 && (rule.categories & in.categories) == 0) {
      note(StrCat("no requested category is in [", Join(rule.lists[kCategories]), "]"));
      return v;
    }
    v.applies = v.passed = true;
    v.reason = Reason::kDeniedByRule;
    note("denies this request");
    return v;
  }
  if ((in.categories & ~rule.categories) != 0) {
    note(StrCat("requested categories are not all in [", Join(rule.lists[kCategories]), "]"));
    return v;
  }
  v.applies = true;
  if (rule.bases != 0) {
    if (in.basis < 0) {
      v.reason = Reason::kLegalBasisMissing;
      note(StrCat("no legal basis claimed; one of [", Join(rule.lists[kBases]), "] is needed"));
      return v;
    }
    if ((rule.bases & (uint32_t{1} << in.basis)) == 0) {
      v.reason = Reason::kLegalBasisInsufficient;
      note(StrCat("legal basis ", req.legal_basis, " is not in [", Join(rule.lists[kBases]), "]"));
      return v;
    }
  }
  if (rule.consent_required || (in.basis >= 0 && in.basis == c.consent_basis)) {
    Reason best = Reason::kConsentMissing;
    for (const ConsentFact& f : req.consents) {
      const Reason failure = ReceiptFailure(f, req);
      if (failure == Reason::kNone) {
        v.consents_used.push_back(f.receipt_id);
        best = Reason::kNone;
        break;
      }
      if (best == Reason::kConsentMissing || MoreSerious(failure, best)) best = failure;
    }
    if (best != Reason::kNone) {
      v.reason = best;
      note(StrCat("needs a valid consent receipt covering this request: ", ReasonName(best)));
      return v;
    }
  }
  const std::pair<Condition, Reason> checks[] = {{kCaseMember, Reason::kNotCaseMember},
                                                 {kCaseActive, Reason::kCaseNotActive},
                                                 {kWithinRetention, Reason::kRetentionExpired}};
  const bool facts[] = {req.case_member, req.case_active, req.within_retention};
  for (size_t i = 0; i < 3; ++i) {
    if ((rule.conditions & checks[i].first) != 0 && !facts[i]) {
      v.reason = checks[i].second;
      note(StrCat("condition fails: ", ReasonName(checks[i].second)));
      return v;
    }
  }
  v.passed = true;
  v.reason = Reason::kAllowed;
  note("allows this request");
  return v;
}

// Translates the request; returns the reason of the first name outside the vocabulary, or kNone.
Reason Intern(const Policy::Compiled& c, const Request& req, Interned* in) {
  const int role = c.vocab.Find(kRoles, req.requester_role);
  if (role < 0) return Reason::kUnknownRole;
  in->role_bit = uint64_t{1} << role;
  if ((in->action = c.vocab.Find(kActions, req.action)) < 0) return Reason::kUnknownAction;
  if ((in->purpose = c.vocab.Find(kPurposes, req.purpose)) < 0) return Reason::kUnknownPurpose;
  for (const auto& cat : req.categories) {
    const int ix = c.vocab.Find(kCategories, cat);
    if (ix < 0) return Reason::kUnknownCategory;
    in->categories |= uint64_t{1} << ix;
  }
  if (!req.legal_basis.empty() && (in->basis = c.vocab.Find(kBases, req.legal_basis)) < 0) {
    return Reason::kUnknownLegalBasis;
  }
  return Reason::kNone;
}

}  // namespace

Decision Policy::Evaluate(const Request& req) const {
  Decision d;
  d.effect = Effect::kDeny;
  d.policy_hash = c_->hash;
  d.canonical_request = CanonicalRequest(req);
  d.request_digest = CanonicalRequestDigest(d.canonical_request, /*remember=*/req.consents.empty());
  Interned in;
  if (const Reason unknown = Intern(*c_, req, &in); unknown != Reason::kNone) {
    d.rule_id = "vocabulary";
    d.reason = unknown;
    return d;
  }
  // With no rule passing, the first rule that applied but failed a requirement
  // explains the denial (e.g. CONSENT_REVOKED); with none, the default denies.
  const Rule* failed_rule = nullptr;
  Reason failed_reason = Reason::kNoMatchingRule;
  auto bucket = c_->index.find(IndexKey(in.action, in.purpose));
  if (bucket != c_->index.end()) {
    for (uint32_t i : bucket->second) {  // deny rules first, then allow rules, each in id order
      const Rule& rule = c_->rules[i];
      Verdict v = Check(*c_, rule, req, in, nullptr);
      if (!v.applies) continue;
      if (v.passed) {
        d.effect = rule.effect;
        d.rule_id = rule.id;
        d.reason = v.reason;
        d.consent_receipt_ids = std::move(v.consents_used);
        d.rate_limit_per_minute = rule.rate_limit;
        return d;
      }
      if (failed_rule == nullptr) {
        failed_rule = &rule;
        failed_reason = v.reason;
      }
    }
  }
  d.rule_id = failed_rule != nullptr ? failed_rule->id : "default-deny";
  d.reason = failed_reason;
  return d;
}

Explanation Policy::Explain(const Request& req) const {
  Explanation e;
  e.decision = Evaluate(req);
  Interned in;
  const bool known = Intern(*c_, req, &in) == Reason::kNone;
  for (const Rule& rule : c_->rules) {
    RuleTrace t;
    t.rule_id = rule.id;
    t.effect = rule.effect == Effect::kAllow ? "allow" : "deny";
    t.origin = rule.origin;
    if (known) {
      Verdict v = Check(*c_, rule, req, in, &t.why);
      t.applies = v.applies;
    } else {
      t.why = StrCat("not evaluated: ", ReasonName(e.decision.reason));
    }
    t.decided = rule.id == e.decision.rule_id;
    e.rules.push_back(std::move(t));
  }
  return e;
}

}  // namespace casenode::policy
