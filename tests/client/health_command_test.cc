// textclf health: the real CLI binary against an in-process server, as a container health check
// runs it: exit 0 only while the server answers SERVING.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_support.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

ProcessResult Health(const std::vector<std::string>& args) { return RunProcess(TEXTCLF_CLI_PATH, args); }

class HealthCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
  }
  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(HealthCommandTest, ExitsZeroAndPrintsServingForAServingServer) {
  for (const std::string service : {"", "textclf.v1.Classifier"}) {
    ProcessResult r = Health({"health", "--server", server_->address(), "--service", service});
    EXPECT_EQ(r.exit_code, 0) << "service \"" << service << "\": " << r.err;
    EXPECT_EQ(r.out, "SERVING\n");
  }
  ProcessResult quiet = Health({"health", "--server", server_->address(), "-q"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "");
}

TEST_F(HealthCommandTest, ExitsOneForAnUnknownService) {
  ProcessResult r = Health({"health", "--server", server_->address(), "--service", "no.such.Service"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
}

TEST_F(HealthCommandTest, ExitsOneOnceTheServerBeginsShuttingDown) {
  ASSERT_EQ(Health({"health", "--server", server_->address()}).exit_code, 0);
  server_->server().Shutdown(/*grace_seconds=*/1);
  ProcessResult r = Health({"health", "--server", server_->address(), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.out.find("SERVING\n"), std::string::npos) << r.out;
}

TEST(HealthCommandNoServerTest, ExitsOneWhenNothingListens) {
  ProcessResult r = Health({"health", "--server", "127.0.0.1:1", "--timeout", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
}

TEST(HealthCommandNoServerTest, ANonPositiveTimeoutIsAUsageError) {
  ProcessResult r = Health({"health", "--server", "127.0.0.1:1", "--timeout", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--timeout"));
}

}  // namespace
}  // namespace textclf::testing
