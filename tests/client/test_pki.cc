#include "tests/client/test_pki.h"

#include <gtest/gtest.h>

#include "tests/support/test_certificates.h"

namespace textclf::testing {

namespace fs = std::filesystem;

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
  try {
    const TestCa ca("textclf test CA"), other_ca("another test CA");
    auto write = [](const PemPair& pair, const fs::path& cert, const fs::path& key) {
      WriteTestFile(cert, pair.certificate);
      WriteTestFile(key, pair.key);
    };
    WriteTestFile(pki.ca_cert, ca.certificate());
    WriteTestFile(pki.other_ca_cert, other_ca.certificate());
    write(ca.Server("IP:127.0.0.1,DNS:localhost"), pki.server_cert, pki.server_key);
    write(ca.Server(std::string("DNS:") + kOtherServerName), pki.named_cert, pki.named_key);
    write(ca.Client(kClientName), pki.client_cert, pki.client_key);
    write(other_ca.Client(kClientName), pki.other_client_cert, pki.other_client_key);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "OpenSSL could not make the test certificates in " << dir << ": " << e.what();
  }
  return pki;
}

}  // namespace textclf::testing
