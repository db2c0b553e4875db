#include "tests/support/test_certificates.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

namespace textclf::testing {
namespace {

std::atomic<long> next_serial{1};

EVP_PKEY* NewKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

std::string ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error("X509V3_EXT_conf_nid failed");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `common_name`, valid from an hour ago for a day.
X509* NewCertificate(EVP_PKEY* key, const std::string& common_name) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), next_serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  return cert;
}

}  // namespace

TestCa::TestCa(const std::string& name) {
  EVP_PKEY* key = NewKey();
  X509* cert = NewCertificate(key, name);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  AddExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert, cert, NID_subject_key_identifier, "hash");
  X509_sign(cert, key, EVP_sha256());
  ca_ = {ToPem(cert), ToPem(key)};
  key_ = key;
  cert_ = cert;
}

TestCa::~TestCa() {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(key_));
  X509_free(static_cast<X509*>(cert_));
}

PemPair TestCa::Issue(const std::string& common_name, const std::string& server_alt_names) const {
  X509* ca = static_cast<X509*>(cert_);
  EVP_PKEY* key = NewKey();
  X509* cert = NewCertificate(key, common_name);
  X509_set_issuer_name(cert, X509_get_subject_name(ca));
  AddExtension(cert, ca, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert, ca, NID_authority_key_identifier, "keyid:always");
  if (!server_alt_names.empty()) {
    AddExtension(cert, ca, NID_subject_alt_name, server_alt_names.c_str());
    AddExtension(cert, ca, NID_ext_key_usage, "serverAuth");
  } else {
    AddExtension(cert, ca, NID_ext_key_usage, "clientAuth");
  }
  X509_sign(cert, static_cast<EVP_PKEY*>(key_), EVP_sha256());
  PemPair out{ToPem(cert), ToPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

PemPair TestCa::Server(const std::string& subject_alt_names) const { return Issue("localhost", subject_alt_names); }
PemPair TestCa::Client(const std::string& common_name) const { return Issue(common_name, ""); }

void WriteTestFile(const std::filesystem::path& path, const std::string& content) {
  // Written beside and renamed over, as a Secret update swaps files: a reader never sees half.
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace textclf::testing
