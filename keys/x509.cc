#include "keys/x509.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/status.h"
#include "base/strings.h"
#include "base/encoding.h"

namespace casenode::keys {
namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

absl::Status OpenSslError(std::string_view what) {
  return absl::InternalError(StrCat("OpenSSL: ", what));
}

absl::StatusOr<PkeyPtr> ReadKey(const SecretBytes& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError("TLS private key: not a PEM private key");
  return key;
}

absl::StatusOr<X509Ptr> ReadCert(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError("certificate: not a PEM X.509 certificate");
  return cert;
}

absl::StatusOr<std::string> WriteCert(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("cannot encode certificate");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError(StrCat("extension ", OBJ_nid2sn(nid)));
  return absl::OkStatus();
}

// Fills the fields every certificate shares: version, random serial, validity, key.
absl::Status FillCommon(X509* cert, EVP_PKEY* subject_key, SystemTime not_before, SystemTime not_after) {
  if (X509_set_version(cert, 2) != 1) return OpenSslError("version");
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("serial");
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before.time_since_epoch().count()) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after.time_since_epoch().count()) == nullptr) {
    return OpenSslError("validity");
  }
  if (X509_set_pubkey(cert, subject_key) != 1) return OpenSslError("public key");
  return absl::OkStatus();
}

absl::Status AddName(X509_NAME* name, const char* field, std::string_view value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return absl::InvalidArgumentError(StrCat("certificate subject field ", field, " is not valid"));
  }
  return absl::OkStatus();
}

std::string NameEntry(X509_NAME* name, int nid) {
  const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

absl::StatusOr<SecretBytes> NewTlsKeyPem() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("cannot generate P-256 key");
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("cannot encode private key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return SecretBytes::CopyFrom(std::string_view(data, static_cast<size_t>(len)));
}

absl::StatusOr<std::string> CreateCaCertificate(const SecretBytes& ca_key_pem, std::string_view network,
                                                SystemTime not_before, SystemTime not_after) {
  auto key = ReadKey(ca_key_pem);
  if (!key.ok()) return key.status();
  X509Ptr cert(X509_new());
  if (auto s = FillCommon(cert.get(), key->get(), not_before, not_after); !s.ok()) return s;
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (auto s = AddName(name, "O", network); !s.ok()) return s;
  if (auto s = AddName(name, "CN", StrCat(network, " network CA")); !s.ok()) return s;
  if (X509_set_issuer_name(cert.get(), name) != 1) return OpenSslError("issuer");
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto s = AddExtension(cert.get(), cert.get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), key->get(), EVP_sha256()) == 0) return OpenSslError("cannot sign CA certificate");
  return WriteCert(cert.get());
}

namespace {

// A node certificate for `subject_key` (only its public half is used), signed by the CA.
absl::StatusOr<std::string> IssueFor(const SecretBytes& ca_key_pem, std::string_view ca_cert_pem, EVP_PKEY* subject_key,
                                     const CertificateSpec& spec) {
  ASSIGN_OR_RETURN(PkeyPtr ca_key, ReadKey(ca_key_pem));
  ASSIGN_OR_RETURN(X509Ptr ca_cert, ReadCert(ca_cert_pem));
  X509Ptr cert(X509_new());
  if (auto s = FillCommon(cert.get(), subject_key, spec.not_before, spec.not_after); !s.ok()) return s;
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (auto [field, value] : {std::pair{"O", std::string_view(spec.network)}, std::pair{"OU", std::string_view(spec.role)},
                              std::pair{"CN", std::string_view(spec.org)}}) {
    if (auto s = AddName(name, field, value); !s.ok()) return s;
  }
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) return OpenSslError("issuer");
  const std::string san = StrCat("DNS:", spec.org);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature,keyAgreement"},
                            std::pair{NID_ext_key_usage, "serverAuth,clientAuth"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"},
                            std::pair{NID_subject_alt_name, san.c_str()}}) {
    if (auto s = AddExtension(cert.get(), ca_cert.get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslError("cannot sign node certificate");
  return WriteCert(cert.get());
}

}  // namespace

absl::StatusOr<std::string> IssueNodeCertificate(const SecretBytes& ca_key_pem, std::string_view ca_cert_pem,
                                                 const SecretBytes& node_key_pem, const CertificateSpec& spec) {
  ASSIGN_OR_RETURN(PkeyPtr node_key, ReadKey(node_key_pem));
  return IssueFor(ca_key_pem, ca_cert_pem, node_key.get(), spec);
}

absl::StatusOr<std::string> RenewNodeCertificate(const SecretBytes& ca_key_pem, std::string_view ca_cert_pem,
                                                 std::string_view current_pem, SystemTime not_before,
                                                 SystemTime not_after) {
  ASSIGN_OR_RETURN(X509Ptr current, ReadCert(current_pem));
  ASSIGN_OR_RETURN(X509Ptr ca_cert, ReadCert(ca_cert_pem));
  // Only a certificate this CA issued is renewed: its subject and key are
  // what the new one binds, so they must be ones the CA vouched for.
  PkeyPtr ca_public(X509_get_pubkey(ca_cert.get()));
  if (!ca_public || X509_verify(current.get(), ca_public.get()) != 1) {
    return absl::InvalidArgumentError("certificate: not issued by this network's CA");
  }
  if (X509_check_ca(current.get()) != 0) return absl::InvalidArgumentError("certificate: a CA's, not a node's");
  X509_NAME* name = X509_get_subject_name(current.get());
  CertificateSpec spec{NameEntry(name, NID_organizationName), NameEntry(name, NID_commonName),
                       NameEntry(name, NID_organizationalUnitName), not_before, not_after};
  EVP_PKEY* key = X509_get0_pubkey(current.get());
  if (key == nullptr) return OpenSslError("public key");
  return IssueFor(ca_key_pem, ca_cert_pem, key, spec);
}

absl::Status CertificateMatchesKey(std::string_view cert_pem, const SecretBytes& key_pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ReadCert(cert_pem));
  ASSIGN_OR_RETURN(PkeyPtr key, ReadKey(key_pem));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::FailedPreconditionError("certificate: its public key is not the node's TLS key");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CertificateFingerprint(std::string_view cert_pem) {
  auto cert = ReadCert(cert_pem);
  if (!cert.ok()) return cert.status();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert->get(), EVP_sha256(), md, &len) != 1) return OpenSslError("digest");
  return HexEncode({md, len});
}

absl::StatusOr<CertificateSubject> ReadCertificateSubject(std::string_view cert_pem) {
  auto cert = ReadCert(cert_pem);
  if (!cert.ok()) return cert.status();
  X509_NAME* name = X509_get_subject_name(cert->get());
  return CertificateSubject{NameEntry(name, NID_commonName), NameEntry(name, NID_organizationalUnitName)};
}

}  // namespace casenode::keys
