// Certificates for tests of TLS between the client binaries and an in-process server, made with
// OpenSSL's C API in a temporary folder: a CA, a server certificate for 127.0.0.1, one for a
// DNS name only, a client certificate, and a second CA that signed none of them.
#pragma once

#include <filesystem>
#include <string>

namespace textclf::testing {

struct TestPki {
  std::filesystem::path ca_cert;                  // the CA that signed everything below (PEM)
  std::filesystem::path server_cert, server_key;  // names 127.0.0.1 and localhost
  std::filesystem::path named_cert, named_key;    // names only kOtherServerName
  std::filesystem::path client_cert, client_key;  // common name kClientName
  std::filesystem::path other_ca_cert;            // a CA that signed nothing here
  std::filesystem::path other_client_cert, other_client_key;  // signed by the other CA
};

inline constexpr char kOtherServerName[] = "textclf.test";
inline constexpr char kClientName[] = "loadgen-ci";

// Writes the files into `dir`; records a gtest failure (and returns paths to missing files) when
// OpenSSL fails.
TestPki MakeTestPki(const std::filesystem::path& dir);

}  // namespace textclf::testing
