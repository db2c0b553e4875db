// Starting the server: configuration checks and listening ports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/server.h"
#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

TEST(ServerTest, PortZeroPicksADifferentFreePortForEachServer) {
  TempDir a, b;
  auto first = server::Server::Start(TestConfig(a.path()));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = server::Server::Start(TestConfig(b.path()));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT((*first)->port(), 0);
  EXPECT_NE((*first)->port(), (*second)->port()) << "port 0 must mean a free port, as server.h says";
}

TEST(ServerTest, RefusesAPortAnotherServerListensOn) {
  TempDir a, b;
  auto first = TestServer::Start(a.path());
  ASSERT_NE(first, nullptr);
  v1::ServerConfig config = TestConfig(b.path());
  config.set_port(first->server().port());
  auto second = server::Server::Start(config);
  EXPECT_FALSE(second.ok()) << "a second server shares port " << config.port()
                            << " with the first, and the two split the traffic";
  if (!second.ok()) {
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(second.status().message(), HasSubstr("cannot listen"));
  }
}

TEST(ServerTest, RejectsAConfigWithoutModelRoot) {
  v1::ServerConfig config = TestConfig("");
  auto server = server::Server::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("models_dir"));
}

TEST(ServerTest, RejectsAPortOutOfRange) {
  TempDir root;
  v1::ServerConfig config = TestConfig(root.path());
  config.set_port(70000);
  auto server = server::Server::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("70000"));
}

TEST(ServerTest, CreatesTheModelRootWhenMissing) {
  TempDir parent;
  auto server = TestServer::Start(parent.path() / "new" / "models");
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(parent.path() / "new" / "models"));
  auto list = ListModels(server->stub());
  ASSERT_TRUE(list.status.ok()) << Describe(list.status);
  EXPECT_EQ(list.response.models_size(), 0);
}

}  // namespace
}  // namespace textclf::testing
