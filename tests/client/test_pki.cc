// A throw-away PKI: P-256 keys, certificates valid from an hour ago for a week, SHA-256
// signatures, the subject alternative names TLS clients check.
#include "tests/client/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

struct Issued {
  KeyPtr key{nullptr, EVP_PKEY_free};
  CertPtr cert{nullptr, X509_free};
};

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) return false;
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// A certificate for `common_name` signed by `issuer` (self-signed when null); `alt_names` in
// OpenSSL's syntax ("IP:127.0.0.1,DNS:localhost"), none for a CA.
Issued Issue(const std::string& common_name, const Issued* issuer, bool is_ca, const std::string& alt_names) {
  static long serial = 1;
  Issued out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  if (out.key == nullptr || out.cert == nullptr) return {};
  X509* cert = out.cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  bool ok = AddExtension(cert, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            AddExtension(cert, signer, NID_subject_key_identifier, "hash") &&
            AddExtension(cert, signer, NID_key_usage,
                         is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (!is_ca) ok = ok && AddExtension(cert, signer, NID_ext_key_usage, "serverAuth,clientAuth");
  if (!alt_names.empty()) ok = ok && AddExtension(cert, signer, NID_subject_alt_name, alt_names);
  EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  if (!ok || X509_sign(cert, signing_key, EVP_sha256()) == 0) return {};
  return out;
}

bool Write(const Issued& issued, const fs::path& cert_path, const fs::path* key_path) {
  if (issued.cert == nullptr) return false;
  std::unique_ptr<FILE, decltype(&std::fclose)> cert_file(std::fopen(cert_path.c_str(), "w"), std::fclose);
  if (cert_file == nullptr || PEM_write_X509(cert_file.get(), issued.cert.get()) != 1) return false;
  if (key_path == nullptr) return true;
  std::unique_ptr<FILE, decltype(&std::fclose)> key_file(std::fopen(key_path->c_str(), "w"), std::fclose);
  return key_file != nullptr &&
         PEM_write_PrivateKey(key_file.get(), issued.key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
}

}  // namespace

TestPki MakeTestPki(const fs::path& dir) {
  TestPki pki;
  pki.ca_cert = dir / "ca.pem";
  pki.server_cert = dir / "server.pem";
  pki.server_key = dir / "server.key";
  pki.named_cert = dir / "named.pem";
  pki.named_key = dir / "named.key";
  pki.client_cert = dir / "client.pem";
  pki.client_key = dir / "client.key";
  pki.other_ca_cert = dir / "other-ca.pem";
  pki.other_client_cert = dir / "other-client.pem";
  pki.other_client_key = dir / "other-client.key";

  const Issued ca = Issue("textclf test CA", nullptr, true, "");
  const Issued other_ca = Issue("another test CA", nullptr, true, "");
  const bool written =
      Write(ca, pki.ca_cert, nullptr) && Write(other_ca, pki.other_ca_cert, nullptr) &&
      Write(Issue("127.0.0.1", &ca, false, "IP:127.0.0.1,DNS:localhost"), pki.server_cert, &pki.server_key) &&
      Write(Issue(kOtherServerName, &ca, false, std::string("DNS:") + kOtherServerName), pki.named_cert,
            &pki.named_key) &&
      Write(Issue(kClientName, &ca, false, ""), pki.client_cert, &pki.client_key) &&
      Write(Issue(kClientName, &other_ca, false, ""), pki.other_client_cert, &pki.other_client_key);
  EXPECT_TRUE(written) << "OpenSSL could not make the test certificates in " << dir;
  return pki;
}

}  // namespace textclf::testing
