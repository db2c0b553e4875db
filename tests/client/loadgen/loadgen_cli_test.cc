// The textclf-loadgen binary itself: exit codes, JSON on stdout, and the CSV and SVG files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/client/test_pki.h"
#include "tests/server/server_test_support.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"
#include "textclf/version.h"

namespace textclf::loadgen {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Result = testing::ProcessResult;

std::string ReadAll(const fs::path& path) { return testing::ReadWholeFile(path.string()); }

class LoadgenCliTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args) { return testing::RunProcess(TEXTCLF_LOADGEN_PATH, args); }


  textclf::testing::TempDir files_;
};

TEST_F(LoadgenCliTest, ExitsTwoOnAUsageError) {
  const Result r = Run({"--health", "--concurrency", "2", "--rate", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not both"));
  EXPECT_EQ(r.out, "");
}

TEST_F(LoadgenCliTest, ExitsTwoWhenTheTextFileIsMissing) {
  const Result r = Run({"--model", "m", "--text-file", (files_.path() / "absent.txt").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("absent.txt"));
}

TEST_F(LoadgenCliTest, PrintsJsonWritesCsvAndPlotAndExitsOneWhenAGateFails) {
  textclf::testing::TempDir root;
  auto server = textclf::testing::TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
  ASSERT_NE(server, nullptr);
  const fs::path csv = files_.path() / "steps.csv";
  const fs::path svg = files_.path() / "plot.svg";
  const Result r = Run({"--target", server->address(), "--health", "--concurrency", "1,4", "--requests", "50",
                        "--warmup", "0", "--json", "--csv-out", csv.string(), "--plot", svg.string(), "--max-p99",
                        "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("gate failed: concurrency 1: p99"));
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> steps;
  for (std::string line; std::getline(lines, line);) steps.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(steps.size(), 2u) << r.out;
  EXPECT_EQ(steps[1]["concurrency"], 4);
  EXPECT_EQ(steps[1]["requests"], 50);
  EXPECT_EQ(steps[1]["workload"], "health");
  const std::string table = ReadAll(csv);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 3);
  EXPECT_THAT(ReadAll(svg), StartsWith("<svg"));
}

TEST_F(LoadgenCliTest, RunsOneStepPerValueOfARange) {
  textclf::testing::TempDir root;
  auto server = textclf::testing::TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
  ASSERT_NE(server, nullptr);
  const Result r = Run({"--target", server->address(), "--health", "--concurrency", "1:4:x2", "--requests", "20",
                        "--warmup", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<int> concurrency;
  for (std::string line; std::getline(lines, line);) concurrency.push_back(nlohmann::json::parse(line)["concurrency"]);
  EXPECT_EQ(concurrency, (std::vector<int>{1, 2, 4}));
}

TEST_F(LoadgenCliTest, PrintsATableByDefault) {
  textclf::testing::TempDir root;
  auto server = textclf::testing::TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
  ASSERT_NE(server, nullptr);
  const Result r = Run({"--target", server->address(), "--health", "--requests", "20", "--warmup", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("p99.9"));
  EXPECT_THAT(r.out, HasSubstr("concurrency 1"));
}

TEST_F(LoadgenCliTest, FailsARunWithMoreThanOnePercentErrorsUnlessToldOtherwise) {
  textclf::testing::TempDir root;
  auto server = textclf::testing::TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
  ASSERT_NE(server, nullptr);
  const fs::path texts = files_.path() / "texts.txt";
  std::ofstream(texts) << "a headline\n";
  const std::vector<std::string> args = {"--target",   server->address(), "--model",  "absent", "--text-file",
                                         texts.string(), "--requests",      "30",       "--warmup", "0"};
  const Result gated = Run(args);
  EXPECT_EQ(gated.exit_code, 1) << gated.err;
  EXPECT_THAT(gated.err, HasSubstr("gate failed: concurrency 1: error rate 1 exceeds --max-error-rate 0.01"));
  EXPECT_THAT(gated.out, HasSubstr("NOT_FOUND=30"));
  std::vector<std::string> lenient = args;
  lenient.insert(lenient.end(), {"--max-error-rate", "1"});
  const Result passed = Run(lenient);
  EXPECT_EQ(passed.exit_code, 0) << passed.err;
}

TEST_F(LoadgenCliTest, PrintsItsVersionAndRefusesAValueAfterVersion) {
  const Result version = Run({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out, std::string("textclf-loadgen ") + TEXTCLF_VERSION + "\n");
  // --version once named the model version: a script that still says so must fail, not pass
  // without measuring.
  const Result old_meaning = Run({"--version", "2", "--health"});
  EXPECT_EQ(old_meaning.exit_code, 2);
  EXPECT_THAT(old_meaning.err, HasSubstr("--model-version"));
}

// A server with TLS and tokens; requests for a model it does not have come back NOT_FOUND once
// they pass the gate, UNAUTHENTICATED when they do not: which one shows what loadgen sent.
class SecureLoadgenTest : public LoadgenCliTest {
 protected:
  void SetUp() override {
    pki_ = textclf::testing::MakeTestPki(files_.path());
    tokens_ = files_.path() / "tokens";
    std::ofstream(tokens_) << "client " << kToken << "\n";
    token_file_ = files_.path() / "token";
    std::ofstream(token_file_) << kToken << "\n";
    texts_ = files_.path() / "texts.txt";
    std::ofstream(texts_) << "a headline\n";
    server_ = textclf::testing::TestServer::Start(root_.path(), [&](v1::ServerConfig& c) {
      c.set_metrics_port(-1);
      c.mutable_tls()->set_cert_file(pki_.server_cert.string());
      c.mutable_tls()->set_key_file(pki_.server_key.string());
      c.set_auth_tokens_file(tokens_.string());
    });
    ASSERT_NE(server_, nullptr);
  }

  std::vector<std::string> Args(const fs::path& ca) {
    return {"--target", server_->address(), "--model", "absent", "--text-file", texts_.string(), "--requests", "20",
            "--warmup", "0", "--json", "--max-error-rate", "1", "--tls-ca", ca.string()};
  }
  static nlohmann::json OnlyStep(const Result& r) {
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line);
    return nlohmann::json::parse(line);
  }

  static constexpr char kToken[] = "loadgen-token-0123456789abcdef";
  textclf::testing::TempDir root_;
  textclf::testing::TestPki pki_;
  fs::path tokens_, token_file_, texts_;
  std::unique_ptr<textclf::testing::TestServer> server_;
};

TEST_F(SecureLoadgenTest, SendsTheTokenOverTlsFromAFileOrTheEnvironment) {
  std::vector<std::string> args = Args(pki_.ca_cert);
  args.insert(args.end(), {"--token-file", token_file_.string()});
  const Result from_file = Run(args);
  EXPECT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(OnlyStep(from_file)["status_counts"], nlohmann::json({{"NOT_FOUND", 20}})) << from_file.out;

  std::vector<std::string> env_args = {std::string("TEXTCLF_TOKEN=") + kToken, TEXTCLF_LOADGEN_PATH};
  for (const std::string& a : Args(pki_.ca_cert)) env_args.push_back(a);
  const Result from_env = testing::RunProcess("/usr/bin/env", env_args);
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(OnlyStep(from_env)["status_counts"], nlohmann::json({{"NOT_FOUND", 20}})) << from_env.out;
}

TEST_F(SecureLoadgenTest, WithoutATokenCountsUnauthenticatedAndSaysHowToSendOne) {
  const Result r = Run(Args(pki_.ca_cert));
  EXPECT_EQ(OnlyStep(r)["status_counts"], nlohmann::json({{"UNAUTHENTICATED", 20}})) << r.out;
  EXPECT_THAT(r.err, HasSubstr("hint: UNAUTHENTICATED: send a token: --token-file or TEXTCLF_TOKEN"));
}

TEST_F(SecureLoadgenTest, AnUntrustedServerCertificateStopsTheRunWithAHint) {
  const Result r = Run(Args(pki_.other_ca_cert));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("cannot connect to " + server_->address()));
  EXPECT_THAT(r.err, HasSubstr("hint: the server's certificate is not signed by --tls-ca"));
}

}  // namespace
}  // namespace textclf::loadgen
