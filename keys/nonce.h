// Random nonces without a system call each.
//
// libsodium 1.0.18's randombytes_buf is one getrandom() call per use, the
// largest cost of sealing a small record. FillRandomNonce serves bytes from a
// 4 KiB per-thread buffer refilled by randombytes_buf. A fork invalidates
// every buffer (pthread_atfork), so parent and child never share bytes.
// For nonces and other public randomness only, never for keys.
#pragma once

#include <cstddef>
#include <cstdint>

namespace casenode::keys {

void FillRandomNonce(uint8_t* out, size_t size);

}  // namespace casenode::keys
