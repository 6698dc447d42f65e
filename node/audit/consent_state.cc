#include "node/audit/consent_state.h"

#include "base/strings.h"

namespace casenode::node {
namespace {

v1::ConsentState Typed(v1::ConsentState state, const std::string& legacy) {
  if (state != v1::CONSENT_STATE_UNSPECIFIED || legacy.empty()) return state;
  v1::ConsentState parsed = v1::CONSENT_STATE_UNSPECIFIED;
  // Only the four names ever logged; anything else stays "no state".
  if (!v1::ConsentState_Parse("CONSENT_" + legacy, &parsed)) return v1::CONSENT_STATE_UNSPECIFIED;
  return parsed;
}

}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
v1::ConsentState LoggedState(const v1::ConsentCheck& check) { return Typed(check.state(), check.legacy_state()); }
v1::ConsentState LoggedState(const v1::ConsentEvent& event) { return Typed(event.state(), event.legacy_state()); }
#pragma GCC diagnostic pop

std::string ConsentStateText(v1::ConsentState state) {
  if (state == v1::CONSENT_STATE_UNSPECIFIED) return "no state";
  if (!v1::ConsentState_IsValid(state)) return StrCat("state ", static_cast<int>(state));
  std::string name = v1::ConsentState_Name(state);
  return name.substr(std::string_view("CONSENT_").size());
}

}  // namespace casenode::node
