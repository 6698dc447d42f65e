// The consent state an audit entry records. Entries logged before the state
// was typed (ConsentState) hold it as text in `legacy_state`; their leaves
// are hashed and never rewritten, so every reader of a log goes through
// LoggedState.
#pragma once

#include <string>

#include "casenode/v1/types.pb.h"

namespace casenode::node {

v1::ConsentState LoggedState(const v1::ConsentCheck& check);
v1::ConsentState LoggedState(const v1::ConsentEvent& event);

// "ACTIVE", "REVOKED", "UNKNOWN", "UNCONFIRMED"; "no state" for none, and
// "state N" for a value this version does not know.
std::string ConsentStateText(v1::ConsentState state);

}  // namespace casenode::node
