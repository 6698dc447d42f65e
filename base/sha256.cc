#include "base/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "base/encoding.h"

namespace casenode {
namespace {

const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Sha256Digest Sha256(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  thread_local Context c;
  Sha256Digest out{};
  unsigned int len = 0;
  // Only allocation failure can make these fail; a wrong digest must never be returned.
  if (c.ctx == nullptr || Sha256Md() == nullptr || EVP_DigestInit_ex(c.ctx, Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, a.data(), a.size()) != 1 || EVP_DigestUpdate(c.ctx, b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx, out.data(), &len) != 1 || len != out.size()) {
    std::abort();
  }
  return out;
}

Sha256Digest Sha256(std::span<const uint8_t> bytes) { return Sha256(bytes, {}); }

Sha256Digest Sha256(std::string_view bytes) { return Sha256(AsBytes(bytes)); }

std::string Sha256Hex(std::string_view bytes) { return HexEncode(Sha256(bytes)); }

}  // namespace casenode
