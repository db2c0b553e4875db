// TLS, mutual TLS and bearer tokens from the client's side: what ChannelSecurity accepts and
// refuses before any call, and the real textclf binary against in-process servers that ask for
// them, with the hint each failure prints.
#include "client/channel_security.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/client/test_pki.h"
#include "tests/server/server_test_support.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using client::ChannelSecurity;
using client::SecurityFlags;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kClientToken[] = "client-token-0123456789abcdef";
constexpr char kAdminToken[] = "admin-token-0123456789abcdef";

fs::path WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// --- Loading the flags: every mistake is a usage error naming the flag and the file. ---------

TEST(ChannelSecurityLoad, IsPlaintextWithoutTokenByDefault) {
  absl::StatusOr<ChannelSecurity> s = ChannelSecurity::Load(SecurityFlags{}, nullptr);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->tls());
  EXPECT_FALSE(s->token());
}

TEST(ChannelSecurityLoad, NamesAMissingCaFile) {
  SecurityFlags flags;
  flags.tls_ca = "/no/such/ca.pem";
  absl::StatusOr<ChannelSecurity> s = ChannelSecurity::Load(flags, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("--tls-ca"));
  EXPECT_THAT(s.status().message(), HasSubstr("/no/such/ca.pem"));
}

TEST(ChannelSecurityLoad, RefusesFilesThatHoldNoPem) {
  TempDir dir;
  const fs::path not_pem = WriteText(dir.path() / "ca.txt", "not a certificate\n");
  SecurityFlags ca;
  ca.tls_ca = not_pem.string();
  EXPECT_THAT(ChannelSecurity::Load(ca, nullptr).status().message(), HasSubstr("holds no PEM certificate"));
  const TestPki pki = MakeTestPki(dir.path());
  SecurityFlags key;
  key.tls_ca = pki.ca_cert.string();
  key.tls_cert = pki.client_cert.string();
  key.tls_key = pki.client_cert.string();  // a certificate where the key belongs
  EXPECT_THAT(ChannelSecurity::Load(key, nullptr).status().message(), HasSubstr("--tls-key"));
}

TEST(ChannelSecurityLoad, NeedsTheCertificateAndTheKeyTogether) {
  SecurityFlags flags;
  flags.tls_cert = "client.pem";
  EXPECT_THAT(ChannelSecurity::Load(flags, nullptr).status().message(), HasSubstr("go together"));
}

TEST(ChannelSecurityLoad, RefusesAServerNameWithoutTls) {
  SecurityFlags flags;
  flags.server_name = "textclf.test";
  EXPECT_THAT(ChannelSecurity::Load(flags, nullptr).status().message(), HasSubstr("--server-name"));
}

TEST(ChannelSecurityLoad, ReadsTheTokenFileTrimmedAndPrefersItToTheEnvironment) {
  TempDir dir;
  SecurityFlags flags;
  flags.token_file = WriteText(dir.path() / "token", std::string("  ") + kClientToken + "\n").string();
  absl::StatusOr<ChannelSecurity> s = ChannelSecurity::Load(flags, "from-the-environment-0123456789");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->token());
  EXPECT_THAT(s->token_source(), HasSubstr("--token-file"));
  absl::StatusOr<ChannelSecurity> env = ChannelSecurity::Load(SecurityFlags{}, kClientToken);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->token_source(), "TEXTCLF_TOKEN");
}

TEST(ChannelSecurityLoad, RefusesAnEmptyTokenOrOneWithSpacesWithoutShowingIt) {
  TempDir dir;
  SecurityFlags empty;
  empty.token_file = WriteText(dir.path() / "empty", "\n").string();
  EXPECT_THAT(ChannelSecurity::Load(empty, nullptr).status().message(), HasSubstr("holds no token"));
  SecurityFlags two_words;
  two_words.token_file = WriteText(dir.path() / "two", "secret-part-one secret-part-two\n").string();
  const absl::Status s = ChannelSecurity::Load(two_words, nullptr).status();
  EXPECT_THAT(s.message(), HasSubstr("one word"));
  EXPECT_THAT(s.message(), Not(HasSubstr("secret-part")));
  EXPECT_FALSE(ChannelSecurity::Load(SecurityFlags{}, "").ok()) << "TEXTCLF_TOKEN set but empty";
}

TEST(ChannelSecurityLoad, WarnsOnlyWhereATokenWouldLeaveTheMachineInTheClear) {
  absl::StatusOr<ChannelSecurity> s = ChannelSecurity::Load(SecurityFlags{}, kClientToken);
  ASSERT_TRUE(s.ok());
  for (const char* local : {"localhost:50051", "127.0.0.1:1", "[::1]:5", "dns:///localhost:1", "unix:/tmp/s"}) {
    EXPECT_FALSE(s->ExposesTokenTo(local)) << local;
  }
  for (const char* remote : {"textclf.example.com:443", "10.0.0.7:50051", "[2001:db8::1]:1"}) {
    EXPECT_TRUE(s->ExposesTokenTo(remote)) << remote;
  }
}

// --- The textclf binary against servers that ask for TLS, certificates and tokens. ------------

class SecureCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir;
    pki_ = new TestPki(MakeTestPki(pki_dir_->path()));
    tokens_ = new fs::path(WriteText(pki_dir_->path() / "tokens",
                                     std::string("client ") + kClientToken + "\nadmin " + kAdminToken + "\n"));
    client_token_file_ = new fs::path(WriteText(pki_dir_->path() / "client-token", std::string(kClientToken) + "\n"));
  }
  static void TearDownTestSuite() {
    delete client_token_file_;
    delete tokens_;
    delete pki_;
    delete pki_dir_;
  }

  // A server with `adjust` applied: TLS files, a token file.
  void StartServer(const std::function<void(v1::ServerConfig&)>& adjust) {
    server_ = TestServer::Start(root_.path(), [&](v1::ServerConfig& c) {
      c.set_metrics_port(-1);
      adjust(c);
    });
    ASSERT_NE(server_, nullptr);
  }
  static void Tls(v1::ServerConfig& c, const fs::path& cert, const fs::path& key) {
    c.mutable_tls()->set_cert_file(cert.string());
    c.mutable_tls()->set_key_file(key.string());
  }

  // `textclf models list` against the server, with `extra` flags.
  ProcessResult ListModels(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"models", "list", "--server", server_->address(), "--timeout", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunProcess(TEXTCLF_CLI_PATH, args);
  }

  static TempDir* pki_dir_;
  static TestPki* pki_;
  static fs::path* tokens_;
  static fs::path* client_token_file_;
  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TempDir* SecureCliTest::pki_dir_ = nullptr;
TestPki* SecureCliTest::pki_ = nullptr;
fs::path* SecureCliTest::tokens_ = nullptr;
fs::path* SecureCliTest::client_token_file_ = nullptr;

TEST_F(SecureCliTest, TlsWorksWithTheCaThatSignedTheServer) {
  StartServer([&](v1::ServerConfig& c) { Tls(c, pki_->server_cert, pki_->server_key); });
  const ProcessResult r = ListModels({"--tls-ca", pki_->ca_cert.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("name"));
}

TEST_F(SecureCliTest, AnotherCaFailsWithAHintAboutTheCa) {
  StartServer([&](v1::ServerConfig& c) { Tls(c, pki_->server_cert, pki_->server_key); });
  const ProcessResult r = ListModels({"--tls-ca", pki_->other_ca_cert.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(r.err, HasSubstr("hint: the server's certificate is not signed by --tls-ca"));
}

TEST_F(SecureCliTest, PlaintextAgainstATlsServerSuggestsTls) {
  StartServer([&](v1::ServerConfig& c) { Tls(c, pki_->server_cert, pki_->server_key); });
  const ProcessResult r = ListModels({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--tls-ca"));
}

TEST_F(SecureCliTest, AMissingCaFileIsAUsageErrorNamingIt) {
  StartServer([&](v1::ServerConfig& c) { Tls(c, pki_->server_cert, pki_->server_key); });
  const std::string missing = (root_.path() / "missing-ca.pem").string();
  const ProcessResult r = ListModels({"--tls-ca", missing});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(missing));
}

TEST_F(SecureCliTest, MutualTlsWorksWithAClientCertificateAndHintsWithoutOne) {
  StartServer([&](v1::ServerConfig& c) {
    Tls(c, pki_->server_cert, pki_->server_key);
    c.mutable_tls()->set_client_ca_file(pki_->ca_cert.string());
  });
  const ProcessResult with = ListModels({"--tls-ca", pki_->ca_cert.string(), "--tls-cert", pki_->client_cert.string(),
                                         "--tls-key", pki_->client_key.string()});
  EXPECT_EQ(with.exit_code, 0) << with.err;
  const ProcessResult without = ListModels({"--tls-ca", pki_->ca_cert.string()});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_THAT(without.err, HasSubstr("hint:"));
  EXPECT_THAT(without.err, HasSubstr("--tls-cert"));
  const ProcessResult untrusted = ListModels({"--tls-ca", pki_->ca_cert.string(), "--tls-cert",
                                              pki_->other_client_cert.string(), "--tls-key",
                                              pki_->other_client_key.string()});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_THAT(untrusted.err, HasSubstr("--tls-client-ca"));
}

TEST_F(SecureCliTest, ServerNameChecksTheNameTheCertificateCarries) {
  StartServer([&](v1::ServerConfig& c) { Tls(c, pki_->named_cert, pki_->named_key); });
  const ProcessResult by_address = ListModels({"--tls-ca", pki_->ca_cert.string()});
  EXPECT_EQ(by_address.exit_code, 1);
  EXPECT_THAT(by_address.err, HasSubstr("--server-name"));
  const ProcessResult by_name = ListModels({"--tls-ca", pki_->ca_cert.string(), "--server-name", kOtherServerName});
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
}

TEST_F(SecureCliTest, WithoutATokenTheServerSaysUnauthenticatedAndTheHintSaysHowToSendOne) {
  StartServer([&](v1::ServerConfig& c) { c.set_auth_tokens_file(tokens_->string()); });
  const ProcessResult r = ListModels({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(r.err, HasSubstr("hint: send a token: --token-file or TEXTCLF_TOKEN"));
}

TEST_F(SecureCliTest, SendsTheTokenFromAFileOrFromTheEnvironment) {
  StartServer([&](v1::ServerConfig& c) { c.set_auth_tokens_file(tokens_->string()); });
  const ProcessResult from_file = ListModels({"--token-file", client_token_file_->string()});
  EXPECT_EQ(from_file.exit_code, 0) << from_file.err;
  const ProcessResult from_env =
      RunProcess("/usr/bin/env", {std::string("TEXTCLF_TOKEN=") + kClientToken, TEXTCLF_CLI_PATH, "models", "list",
                                  "--server", server_->address()});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  const ProcessResult wrong =
      RunProcess("/usr/bin/env", {"TEXTCLF_TOKEN=not-a-token-the-server-knows", TEXTCLF_CLI_PATH, "models", "list",
                                  "--server", server_->address()});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("does not know the token from TEXTCLF_TOKEN"));
}

TEST_F(SecureCliTest, AClientTokenOnAnAdminCallIsToldItsRoleIsTooLow) {
  StartServer([&](v1::ServerConfig& c) { c.set_auth_tokens_file(tokens_->string()); });
  const ProcessResult r = RunProcess(TEXTCLF_CLI_PATH, {"models", "delete", "some-model", "--server",
                                                        server_->address(), "--token-file",
                                                        client_token_file_->string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(r.err, HasSubstr("role is too low"));
}

TEST_F(SecureCliTest, AClientCertificateTheTokenFileNamesIsAnIdentityWithoutAToken) {
  const fs::path by_certificate =
      WriteText(root_.path() / "cert-tokens", std::string("client cert:") + kClientName + "\n");
  StartServer([&](v1::ServerConfig& c) {
    Tls(c, pki_->server_cert, pki_->server_key);
    c.mutable_tls()->set_client_ca_file(pki_->ca_cert.string());
    c.set_auth_tokens_file(by_certificate.string());
  });
  const std::vector<std::string> tls = {"--tls-ca", pki_->ca_cert.string(), "--tls-cert", pki_->client_cert.string(),
                                        "--tls-key", pki_->client_key.string()};
  const ProcessResult list = ListModels(tls);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> args = {"models", "delete", "some-model", "--server", server_->address()};
  args.insert(args.end(), tls.begin(), tls.end());
  const ProcessResult admin_call = RunProcess(TEXTCLF_CLI_PATH, args);
  EXPECT_EQ(admin_call.exit_code, 1);
  EXPECT_THAT(admin_call.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(admin_call.err, HasSubstr("your certificate's role is too low"));
}

TEST_F(SecureCliTest, TlsAndATokenTogether) {
  StartServer([&](v1::ServerConfig& c) {
    Tls(c, pki_->server_cert, pki_->server_key);
    c.set_auth_tokens_file(tokens_->string());
  });
  const ProcessResult r = ListModels({"--tls-ca", pki_->ca_cert.string(), "--token-file", client_token_file_->string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("warning")));
}

}  // namespace
}  // namespace textclf::testing
