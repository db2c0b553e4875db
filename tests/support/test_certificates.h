// Certificates made in a test, with OpenSSL: a CA, a server certificate it signs for localhost
// and 127.0.0.1, and client certificates with a chosen common name, for TLS and mutual TLS
// against a real server on loopback. EC P-256 keys: quick to make.
#pragma once

#include <filesystem>
#include <string>

namespace textclf::testing {

struct PemPair {
  std::string certificate;  // PEM
  std::string key;          // PEM
};

class TestCa {
 public:
  // A self-signed CA named `name`.
  explicit TestCa(const std::string& name = "textclf test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& certificate() const { return ca_.certificate; }
  // A server certificate for `subject_alt_names` (OpenSSL's syntax), by default DNS localhost and
  // IP 127.0.0.1.
  PemPair Server(const std::string& subject_alt_names = "DNS:localhost,IP:127.0.0.1") const;
  // A client certificate whose subject's common name is `common_name`.
  PemPair Client(const std::string& common_name) const;

 private:
  PemPair Issue(const std::string& common_name, const std::string& server_alt_names) const;
  PemPair ca_;
  void* key_ = nullptr;   // EVP_PKEY of the CA
  void* cert_ = nullptr;  // X509 of the CA
};

// Writes `content` to `path` (replacing it), for certificate and key files.
void WriteTestFile(const std::filesystem::path& path, const std::string& content);

}  // namespace textclf::testing
