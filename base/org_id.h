// Organisation ids: the names the manifest gives its nodes, which the policy's
// `orgs` lists and consent receipts refer to. One rule in one place, so that
// every part that accepts an org id accepts exactly the same ones; they also
// become the DNS SAN of a node certificate, hence the DNS-label syntax.
#pragma once

#include <algorithm>
#include <string_view>

namespace casenode {

// What a valid org id looks like, for error messages.
inline constexpr std::string_view kOrgIdSyntax = "1 to 63 characters of a-z, 0-9 and -";

// True if `org` is 1 to 63 characters of a-z, 0-9 and '-'. No whitespace,
// separators or upper case, so an org id can never carry other text with it.
inline bool ValidOrgId(std::string_view org) {
  if (org.empty() || org.size() > 63) return false;
  return std::all_of(org.begin(), org.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace casenode
