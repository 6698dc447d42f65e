#include "tlog/note.h"

#include <sodium.h>

#include <charconv>

#include "base/encoding.h"
#include "base/sha256.h"

namespace casenode::tlog {
namespace {

constexpr std::string_view kDash = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kCosignatureHeader = "cosignature/v1\n";
constexpr size_t kEd25519SigBytes = 64;

absl::StatusOr<uint64_t> ParseDecimal(std::string_view s, std::string_view what) {
  uint64_t v = 0;
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return absl::InvalidArgumentError(std::string(what) + " is not a decimal number");
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return absl::InvalidArgumentError(std::string(what) + " is not a decimal number");
  }
  return v;
}

// Splits off the next line (without its newline); false if there is no newline.
bool NextLine(std::string_view& rest, std::string_view& line) {
  const size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return false;
  line = rest.substr(0, nl);
  rest.remove_prefix(nl + 1);
  return true;
}

// The note as the specs allow it: valid UTF-8, no control characters but "\n".
absl::Status CheckNoteCharacters(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return absl::InvalidArgumentError("note holds a control character");
      ++i;
      continue;
    }
    const size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (len == 0 || (c >= 0xF0 && len != 4) || i + len > bytes.size()) {
      return absl::InvalidArgumentError("note is not valid UTF-8");
    }
    for (size_t j = 1; j < len; ++j) {
      if ((static_cast<unsigned char>(bytes[i + j]) & 0xC0) != 0x80) {
        return absl::InvalidArgumentError("note is not valid UTF-8");
      }
    }
    i += len;
  }
  return absl::OkStatus();
}

std::array<uint8_t, 4> KeyIdBytes(uint32_t id) {
  return {static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
          static_cast<uint8_t>(id)};
}

}  // namespace

absl::Status CheckKeyName(std::string_view name, std::string_view what) {
  if (name.empty() || name.size() > 256) return absl::InvalidArgumentError(std::string(what) + " must be 1 to 256 characters");
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == '+') {
      return absl::InvalidArgumentError(std::string(what) + " may hold only printable ASCII without spaces or '+'");
    }
  }
  return absl::OkStatus();
}

std::string CheckpointBody(const Checkpoint& cp) {
  return cp.origin + "\n" + std::to_string(cp.size) + "\n" + Base64Encode(cp.root) + "\n";
}

absl::StatusOr<Checkpoint> ParseCheckpointBody(std::string_view text) {
  std::string_view rest = text;
  std::string_view origin, size, root;
  if (!NextLine(rest, origin) || !NextLine(rest, size) || !NextLine(rest, root)) {
    return absl::InvalidArgumentError("checkpoint has fewer than three lines");
  }
  if (!rest.empty()) return absl::InvalidArgumentError("checkpoint has extension lines");
  if (absl::Status s = CheckKeyName(origin, "checkpoint origin"); !s.ok()) return s;
  Checkpoint cp;
  cp.origin = std::string(origin);
  absl::StatusOr<uint64_t> n = ParseDecimal(size, "checkpoint tree size");
  if (!n.ok()) return n.status();
  cp.size = *n;
  absl::StatusOr<Bytes> r = Base64Decode(root, "checkpoint root hash");
  if (!r.ok()) return r.status();
  if (r->size() != cp.root.size() || Base64Encode(*r) != root) {
    return absl::InvalidArgumentError("checkpoint root hash is not 32 bytes in canonical base64");
  }
  std::copy(r->begin(), r->end(), cp.root.begin());
  return cp;
}

uint32_t NoteKeyId(std::string_view key_name, uint8_t type, const Ed25519PublicKey& key) {
  std::string m(key_name);
  m.push_back('\n');
  m.push_back(static_cast<char>(type));
  m.append(reinterpret_cast<const char*>(key.data()), key.size());
  const Sha256Digest d = Sha256(m);
  return (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | uint32_t{d[3]};
}

std::string SignatureLine(const NoteSignature& s) {
  std::string raw;
  const auto id = KeyIdBytes(s.key_id);
  raw.append(reinterpret_cast<const char*>(id.data()), id.size());
  raw += s.signature;
  return std::string(kDash) + s.key_name + " " + Base64Encode(AsBytes(raw)) + "\n";
}

std::string FormatNote(const Note& note) {
  std::string out = note.text + "\n";
  for (const NoteSignature& s : note.signatures) out += SignatureLine(s);
  return out;
}

absl::StatusOr<Note> ParseNote(std::string_view bytes) {
  if (bytes.size() > kMaxNoteBytes) return absl::InvalidArgumentError("note is larger than 32 KiB");
  if (absl::Status s = CheckNoteCharacters(bytes); !s.ok()) return s;
  // The text ends at the last blank line: signature lines never are blank.
  const size_t split = bytes.rfind("\n\n");
  if (split == std::string_view::npos) return absl::InvalidArgumentError("note has no signature block");
  Note note;
  note.text = std::string(bytes.substr(0, split + 1));
  std::string_view rest = bytes.substr(split + 2);
  if (rest.empty()) return absl::InvalidArgumentError("note has no signatures");
  std::string_view line;
  while (!rest.empty()) {
    if (!NextLine(rest, line)) return absl::InvalidArgumentError("note does not end in a newline");
    if (note.signatures.size() == kMaxSignatures) return absl::InvalidArgumentError("note has too many signatures");
    if (!line.starts_with(kDash)) return absl::InvalidArgumentError("note signature line does not start with an em dash");
    line.remove_prefix(kDash.size());
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return absl::InvalidArgumentError("note signature line has no signature");
    NoteSignature sig;
    sig.key_name = std::string(line.substr(0, sp));
    if (absl::Status s = CheckKeyName(sig.key_name, "note key name"); !s.ok()) return s;
    absl::StatusOr<Bytes> raw = Base64Decode(line.substr(sp + 1), "note signature");
    if (!raw.ok()) return raw.status();
    if (raw->size() < 5) return absl::InvalidArgumentError("note signature is too short");
    sig.key_id = (uint32_t{(*raw)[0]} << 24) | (uint32_t{(*raw)[1]} << 16) | (uint32_t{(*raw)[2]} << 8) |
                 uint32_t{(*raw)[3]};
    sig.signature.assign(reinterpret_cast<const char*>(raw->data()) + 4, raw->size() - 4);
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

bool VerifyNoteSignature(const Note& note, std::string_view key_name, const Ed25519PublicKey& key) {
  const uint32_t id = NoteKeyId(key_name, kEd25519Type, key);
  bool verified = false;
  for (const NoteSignature& s : note.signatures) {
    if (s.key_name != key_name || s.key_id != id) continue;
    if (s.signature.size() != kEd25519SigBytes ||
        crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(s.signature.data()),
                                    reinterpret_cast<const uint8_t*>(note.text.data()), note.text.size(),
                                    key.data()) != 0) {
      return false;
    }
    verified = true;
  }
  return verified;
}

std::string CosignedMessage(std::string_view checkpoint_body, uint64_t timestamp) {
  return std::string(kCosignatureHeader) + "time " + std::to_string(timestamp) + "\n" + std::string(checkpoint_body);
}

absl::StatusOr<uint64_t> VerifyCosignature(const Note& note, std::string_view witness_name,
                                           const Ed25519PublicKey& key) {
  const uint32_t id = NoteKeyId(witness_name, kCosignatureType, key);
  for (const NoteSignature& s : note.signatures) {
    if (s.key_name != witness_name || s.key_id != id) continue;
    if (s.signature.size() != 8 + kEd25519SigBytes) return absl::InvalidArgumentError("cosignature has the wrong length");
    const uint64_t t = ReadU64(AsBytes(std::string_view(s.signature).substr(0, 8)));
    if (t > static_cast<uint64_t>(INT64_MAX)) return absl::InvalidArgumentError("cosignature time is out of range");
    const std::string m = CosignedMessage(note.text, t);
    if (crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(s.signature.data()) + 8,
                                    reinterpret_cast<const uint8_t*>(m.data()), m.size(), key.data()) != 0) {
      return absl::InvalidArgumentError("cosignature does not verify");
    }
    return t;
  }
  return absl::NotFoundError("note carries no cosignature by this witness");
}

}  // namespace casenode::tlog
