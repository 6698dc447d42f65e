// Process-wide protections a casenode binary sets up first thing.
#pragma once

namespace casenode {

// No core dumps (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0): a crash
// or a debugger must not write BSNs, pseudonyms or keys held in memory to disk.
void DisableCoreDumps();

}  // namespace casenode
