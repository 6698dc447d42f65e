// libFuzzer target: C2SP signed notes, checkpoint bodies and cosignatures as
// witnesses and auditors read them from peers (tlog). Every input must
// parse or give a clean error; a parsed note must format back to the same
// bytes, and a parsed checkpoint body likewise.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tlog/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace casenode::tlog;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto note = ParseNote(bytes);
  if (note.ok()) {
    if (FormatNote(*note) != bytes) std::abort();
    const Ed25519PublicKey key{1, 2, 3};
    (void)VerifyNoteSignature(*note, "casenode.example/log", key);
    (void)VerifyCosignature(*note, "casenode.example/witness", key);
    auto body = ParseCheckpointBody(note->text);
    if (body.ok() && CheckpointBody(*body) != note->text) std::abort();
  }
  auto body = ParseCheckpointBody(bytes);
  if (body.ok() && CheckpointBody(*body) != bytes) std::abort();
  return 0;
}
