// C2SP signed notes (c2sp.org/signed-note), the checkpoints of a
// transparency log (c2sp.org/tlog-checkpoint) and witness cosignatures
// (c2sp.org/tlog-cosignature, Ed25519 type 0x04). Pure: no I/O, libsodium
// for Ed25519 verification only; signing is the key holder's job.
//
//   checkpoint body  = origin "\n" decimal size "\n" base64(root) "\n"
//   signed note      = text "\n" ("— " name " " base64(key id[4] || sig) "\n")+
//   key id           = SHA-256(name || "\n" || type || public key)[:4]
//   cosigned message = "cosignature/v1\ntime " decimal(t) "\n" || body
//   cosignature sig  = key id[4] || t u64be || Ed25519 sig[64]
//
// Parsing is strict and bounded: at most kMaxNoteBytes and kMaxSignatures,
// valid UTF-8 without control characters except newline.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tlog/merkle.h"

namespace casenode::tlog {

inline constexpr size_t kMaxNoteBytes = 32 * 1024;
inline constexpr size_t kMaxSignatures = 100;
inline constexpr uint8_t kEd25519Type = 0x01;
inline constexpr uint8_t kCosignatureType = 0x04;

using Ed25519PublicKey = std::array<uint8_t, 32>;

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The note text of a checkpoint (no extension lines).
std::string CheckpointBody(const Checkpoint& checkpoint);
// InvalidArgument unless `text` is exactly a body CheckpointBody could give
// (no extension lines: casenode logs write none).
[[nodiscard]] absl::StatusOr<Checkpoint> ParseCheckpointBody(std::string_view text);

uint32_t NoteKeyId(std::string_view key_name, uint8_t type, const Ed25519PublicKey& key);

struct NoteSignature {
  std::string key_name;
  uint32_t key_id = 0;
  std::string signature;  // the bytes after the key id
};

struct Note {
  std::string text;  // ends in "\n"
  std::vector<NoteSignature> signatures;
};

std::string FormatNote(const Note& note);
// One signature line: "— " name " " base64(key id || signature) "\n".
std::string SignatureLine(const NoteSignature& signature);
// InvalidArgument naming what is wrong.
[[nodiscard]] absl::StatusOr<Note> ParseNote(std::string_view bytes);

// Whether `note` carries a valid Ed25519 (type 0x01) signature by (name, key).
// Signatures by other keys are ignored, as the spec requires; a signature by
// this key that fails makes the whole answer false.
[[nodiscard]] bool VerifyNoteSignature(const Note& note, std::string_view key_name, const Ed25519PublicKey& key);

// What a witness signs for a cosignature at POSIX time `timestamp`.
std::string CosignedMessage(std::string_view checkpoint_body, uint64_t timestamp);
// The timestamp of a valid cosignature by (name, key) on `note`, if any.
[[nodiscard]] absl::StatusOr<uint64_t> VerifyCosignature(const Note& note, std::string_view witness_name,
                                                          const Ed25519PublicKey& key);

// A key name or origin as the specs allow: non-empty, printable ASCII, no
// spaces and no '+' (casenode uses only such names). InvalidArgument naming `what`.
[[nodiscard]] absl::Status CheckKeyName(std::string_view name, std::string_view what);

}  // namespace casenode::tlog
