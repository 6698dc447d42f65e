#include "keys/nonce.h"

#include <pthread.h>
#include <sodium.h>

#include <atomic>
#include <cstring>

namespace casenode::keys {
namespace {

std::atomic<uint64_t> g_fork_generation{0};

void OnFork() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct Buffer {
  uint8_t bytes[4096];
  size_t used = sizeof bytes;  // empty
  uint64_t generation = 0;
  ~Buffer() { sodium_memzero(bytes, sizeof bytes); }
};

}  // namespace

void FillRandomNonce(uint8_t* out, size_t size) {
  static const int registered = pthread_atfork(nullptr, nullptr, OnFork);
  (void)registered;
  thread_local Buffer buf;
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (buf.generation != generation) {
    buf.used = sizeof buf.bytes;
    buf.generation = generation;
  }
  if (size > sizeof buf.bytes) {
    randombytes_buf(out, size);
    return;
  }
  if (sizeof buf.bytes - buf.used < size) {
    randombytes_buf(buf.bytes, sizeof buf.bytes);
    buf.used = 0;
  }
  std::memcpy(out, buf.bytes + buf.used, size);
  sodium_memzero(buf.bytes + buf.used, size);  // never hand out the same bytes twice
  buf.used += size;
}

}  // namespace casenode::keys
