#include "keys/master_key.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/strings.h"
#include "base/file.h"
#include "base/reason.h"
#include "base/status.h"

namespace casenode::keys {
namespace {

constexpr std::string_view kMagic = "CNSEAL";
constexpr uint8_t kVersion = 1;
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

void PutU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
uint32_t GetU32(const uint8_t* p) { return ReadU32(std::span<const uint8_t>(p, 4)); }

Bytes EncodeHeader(const KdfParams& params) {
  Bytes h(kMagic.begin(), kMagic.end());
  h.push_back(kVersion);
  h.push_back(static_cast<uint8_t>(params.kind));
  if (params.kind == KdfKind::kArgon2id) {
    PutU32(h, params.opslimit);
    PutU32(h, params.memlimit_kib);
    h.insert(h.end(), params.salt.begin(), params.salt.end());
  }
  return h;
}

// Bounds on the Argon2id limits, for a header read from disk and for
// parameters given to FromPassphrase alike. `where` prefixes the message.
absl::Status CheckArgon2idLimits(const KdfParams& p, std::string_view where) {
  if (p.opslimit < crypto_pwhash_OPSLIMIT_MIN || p.opslimit > kMaxArgon2idOpslimit) {
    return absl::InvalidArgumentError(StrCat(where, "Argon2id opslimit ", p.opslimit,
                                             " is out of bounds (expected ", crypto_pwhash_OPSLIMIT_MIN, " to ",
                                             kMaxArgon2idOpslimit, ")"));
  }
  if (p.memlimit_kib < crypto_pwhash_MEMLIMIT_MIN / 1024 || p.memlimit_kib > kMaxArgon2idMemlimitKib) {
    return absl::InvalidArgumentError(StrCat(where, "Argon2id memlimit_kib ", p.memlimit_kib,
                                             " is out of bounds (expected ", crypto_pwhash_MEMLIMIT_MIN / 1024,
                                             " to ", kMaxArgon2idMemlimitKib, ")"));
  }
  return absl::OkStatus();
}

// Parses the header; sets *header_len to the bytes before the nonce.
absl::StatusOr<KdfParams> ParseHeader(std::span<const uint8_t> sealed, size_t* header_len) {
  if (sealed.size() < kMagic.size() + 2 ||
      std::memcmp(sealed.data(), kMagic.data(), kMagic.size()) != 0) {
    return absl::InvalidArgumentError("not a casenode sealed file (bad magic)");
  }
  const uint8_t version = sealed[kMagic.size()];
  if (version != kVersion) {
    return absl::FailedPreconditionError(
        StrCat("sealed file format version ", version, " is not supported (this build reads version ",
                     kVersion, ")"));
  }
  KdfParams p;
  p.kind = static_cast<KdfKind>(sealed[kMagic.size() + 1]);
  size_t len = kMagic.size() + 2;
  switch (p.kind) {
    case KdfKind::kKeyFile:
      break;
    case KdfKind::kArgon2id:
      if (sealed.size() < len + 8 + p.salt.size()) return absl::InvalidArgumentError("sealed file header truncated");
      p.opslimit = GetU32(&sealed[len]);
      p.memlimit_kib = GetU32(&sealed[len + 4]);
      std::memcpy(p.salt.data(), &sealed[len + 8], p.salt.size());
      len += 8 + p.salt.size();
      RETURN_IF_ERROR(CheckArgon2idLimits(p, "sealed file header: "));
      break;
    default:
      return absl::InvalidArgumentError("sealed file names an unknown key derivation");
  }
  *header_len = len;
  return p;
}

Bytes AssociatedData(std::string_view purpose, std::span<const uint8_t> header_and_nonce) {
  Bytes ad(purpose.begin(), purpose.end());
  ad.push_back(0);
  ad.insert(ad.end(), header_and_nonce.begin(), header_and_nonce.end());
  return ad;
}

// The length of `text` without the line ending(s) an editor leaves at its end.
size_t WithoutTrailingNewlines(const SecretBytes& text) {
  size_t len = text.size();
  while (len > 0 && (text.data()[len - 1] == '\n' || text.data()[len - 1] == '\r')) --len;
  return len;
}

absl::StatusOr<SecretBytes> ReadPassphraseUri(std::string_view uri) {
  if (ConsumePrefix(&uri, "passphrase-env:")) {
    const std::string name(uri);
    char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') {
      return absl::InvalidArgumentError(StrCat("master_key: environment variable ", name, " is not set"));
    }
    SecretBytes passphrase = SecretBytes::CopyFrom(std::string_view(v));
    // Take the passphrase out of the environment: child processes would
    // inherit it, and /proc/PID/environ shows it to the process's user (and
    // root). unsetenv alone only fixes the first: /proc/PID/environ reads the
    // block the process was started with, which unsetenv leaves as it was,
    // so the value is wiped in place first. (POSIX says not to modify what
    // getenv returns; glibc returns the process's own writable environment
    // string, and unsetenv drops the last reference to it.)
    sodium_memzero(v, std::strlen(v));
    ::unsetenv(name.c_str());
    return passphrase;
  }
  std::string path;
  bool credential = false;
  if (ConsumePrefix(&uri, "passphrase-credential:")) {
    credential = true;
    // systemd's LoadCredential= puts it in a directory only this service reads.
    if (uri.empty() || uri.find('/') != std::string_view::npos || uri == "." || uri == "..") {
      return absl::InvalidArgumentError("master_key: passphrase-credential: expected a credential name, not a path");
    }
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (dir == nullptr || *dir == '\0') {
      return absl::InvalidArgumentError(
          "master_key: passphrase-credential: CREDENTIALS_DIRECTORY is not set (run under systemd with "
          "LoadCredential=, or use passphrase-file:)");
    }
    path = StrCat(dir, "/", std::string(uri));
  } else if (ConsumePrefix(&uri, "passphrase-file:")) {
    path = std::string(uri);
  }
  if (!path.empty()) {
    ASSIGN_OR_RETURN(SecretBytes text, credential ? ReadCredentialFile(path) : ReadSecretFile(path));
    const size_t len = WithoutTrailingNewlines(text);
    if (len == 0) return absl::InvalidArgumentError(StrCat("master_key: passphrase file ", path, " is empty"));
    return SecretBytes::CopyFrom(text.span().first(len));
  }
  return absl::InvalidArgumentError(
      "master_key: expected a URI starting with file:, passphrase-file:, passphrase-env: or passphrase-credential:");
}

bool IsPassphraseUri(std::string_view uri) {
  return uri.starts_with("passphrase-env:") || uri.starts_with("passphrase-file:") ||
         uri.starts_with("passphrase-credential:");
}

}  // namespace

KdfParams KdfParams::NewArgon2id(uint32_t opslimit, uint32_t memlimit_kib) {
  KdfParams p;
  p.kind = KdfKind::kArgon2id;
  p.opslimit = opslimit;
  p.memlimit_kib = memlimit_kib;
  randombytes_buf(p.salt.data(), p.salt.size());
  return p;
}

absl::StatusOr<MasterKey> MasterKey::FromKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(SecretBytes text, ReadSecretFile(path));
  const size_t text_len = WithoutTrailingNewlines(text);
  const char* b64 = reinterpret_cast<const char*>(text.data());
  SecretBytes key(kKeySize);
  size_t len = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(key.data(), key.size(), b64, text_len, nullptr, &len, &end,
                                   sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || len != kKeySize || end != b64 + text_len) {
    return absl::InvalidArgumentError(StrCat(path, ": expected a key file holding 32 bytes in base64"));
  }
  KdfParams p;
  p.kind = KdfKind::kKeyFile;
  return MasterKey(std::move(key), p);
}

absl::StatusOr<MasterKey> MasterKey::FromPassphrase(const SecretBytes& passphrase, const KdfParams& params) {
  if (params.kind != KdfKind::kArgon2id) return absl::InvalidArgumentError("passphrase needs Argon2id parameters");
  RETURN_IF_ERROR(CheckArgon2idLimits(params, "passphrase: "));
  SecretBytes key(kKeySize);
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()), passphrase.size(),
                    params.salt.data(), params.opslimit, size_t{params.memlimit_kib} * 1024,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("Argon2id: not enough memory for the stored limits");
  }
  return MasterKey(std::move(key), params);
}

absl::Status MasterKey::CreateKeyFile(const std::string& path) {
  if (std::filesystem::exists(path)) return absl::AlreadyExistsError(StrCat(path, " already exists"));
  SecretBytes key = SecretBytes::Random(kKeySize);
  const size_t len = sodium_base64_encoded_len(kKeySize, sodium_base64_VARIANT_ORIGINAL);
  SecretBytes text(len);
  sodium_bin2base64(reinterpret_cast<char*>(text.data()), len, key.data(), key.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  text.data()[len - 1] = '\n';  // replace the NUL terminator
  return WriteFileAtomic(path, text.span(), 0600);
}

absl::StatusOr<MasterKey> MasterKey::Unlock(std::string_view uri, std::span<const uint8_t> sealed) {
  ASSIGN_OR_RETURN(KdfParams params, ReadSealedHeader(sealed));
  std::string_view path = uri;
  if (ConsumePrefix(&path, "file:")) {
    if (params.kind != KdfKind::kKeyFile) {
      return absl::FailedPreconditionError("master_key: the file was sealed with a passphrase, not a key file");
    }
    return FromKeyFile(std::string(path));
  }
  if (IsPassphraseUri(uri) && params.kind != KdfKind::kArgon2id) {
    return absl::FailedPreconditionError("master_key: the file was sealed with a key file, not a passphrase");
  }
  ASSIGN_OR_RETURN(SecretBytes passphrase, ReadPassphraseUri(uri));
  return FromPassphrase(passphrase, params);
}

absl::StatusOr<MasterKey> MasterKey::ForNewFiles(std::string_view uri) {
  std::string_view path = uri;
  if (ConsumePrefix(&path, "file:")) return FromKeyFile(std::string(path));
  ASSIGN_OR_RETURN(SecretBytes passphrase, ReadPassphraseUri(uri));
  return FromPassphrase(passphrase, KdfParams::NewArgon2id());
}

absl::StatusOr<SecretBytes> MasterKey::ReadPassphrase(std::string_view uri) { return ReadPassphraseUri(uri); }

Bytes MasterKey::Seal(std::string_view purpose, std::span<const uint8_t> plaintext) const {
  Bytes out = EncodeHeader(params_);
  const size_t nonce_at = out.size();
  out.resize(nonce_at + kNonceSize);
  randombytes_buf(&out[nonce_at], kNonceSize);
  const Bytes ad = AssociatedData(purpose, out);
  const size_t ct_at = out.size();
  out.resize(ct_at + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(&out[ct_at], &ct_len, plaintext.data(), plaintext.size(), ad.data(),
                                             ad.size(), nullptr, &out[nonce_at], key_.data());
  out.resize(ct_at + ct_len);
  return out;
}

absl::StatusOr<SecretBytes> MasterKey::Open(std::string_view purpose, std::span<const uint8_t> sealed) const {
  size_t header_len = 0;
  ASSIGN_OR_RETURN(KdfParams params, ParseHeader(sealed, &header_len));
  (void)params;
  const size_t ct_at = header_len + kNonceSize;
  if (sealed.size() < ct_at + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return absl::InvalidArgumentError("sealed file truncated");
  }
  const Bytes ad = AssociatedData(purpose, sealed.first(ct_at));
  SecretBytes plain(sealed.size() - ct_at - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr, &sealed[ct_at], sealed.size() - ct_at,
                                                 ad.data(), ad.size(), &sealed[header_len], key_.data()) != 0) {
    return Error(Reason::kWrongMasterKey,
                 StrCat("cannot open sealed ", purpose, ": wrong master key or passphrase, or the file was altered"));
  }
  return plain;
}

absl::StatusOr<KdfParams> ReadSealedHeader(std::span<const uint8_t> sealed) {
  size_t header_len = 0;
  return ParseHeader(sealed, &header_len);
}

}  // namespace casenode::keys
