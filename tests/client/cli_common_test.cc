// The flags every textclf command shares, through the real binary: --timeout bounds every call
// (a server that accepts the connection and never answers cannot hang a command),
// $TEXTCLF_SERVER is the default --server, and --version prints the build's version.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "tests/server/server_test_support.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"
#include "textclf/version.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

// A TCP port on loopback that completes connections (the kernel does, from the backlog) and
// never says a word: the HTTP/2 handshake never finishes, no call is ever answered.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(TimeoutFlag, EveryCommandGivesUpOnASilentServerWithinItsTimeout) {
  SilentListener silent;
  TempDir dir;
  const std::string csv = (dir.path() / "data.csv").string();
  std::ofstream(csv) << "headline,label\nan example,news\nanother one,clickbait\n";
  const std::string server = silent.address();
  const std::vector<std::vector<std::string>> commands = {
      {"models", "list"},
      {"models", "get", "m"},
      {"classify", "--model", "m", "some text"},
      {"stats"},
      {"feedback", "--model", "m", "--text", "some text", "--label", "news"},
      {"evaluate", "--model", "m", "--csv", csv, "--text-column", "headline", "--label-column", "label", "--quiet"},
      {"train", "--name", "m", "--csv", csv, "--text-column", "headline", "--label-column", "label", "--quiet"},
  };
  for (std::vector<std::string> args : commands) {
    const std::string name = args[0] + (args[0] == "models" ? " " + args[1] : "");
    args.insert(args.end(), {"--server", server, "--timeout", "1"});
    const auto start = std::chrono::steady_clock::now();
    const ProcessResult r = RunProcess(TEXTCLF_CLI_PATH, args);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("DEADLINE_EXCEEDED")) << name;
    EXPECT_THAT(r.err, HasSubstr("hint: no answer within --timeout 1 second")) << name;
    EXPECT_LT(seconds, 5) << name << " took " << seconds << " s";
  }
}

TEST(TimeoutFlag, ANegativeTimeoutIsAUsageError) {
  const ProcessResult r = RunProcess(TEXTCLF_CLI_PATH, {"models", "list", "--timeout", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--timeout"));
}

TEST(ServerFlag, DefaultsToTheTextclfServerEnvironmentVariable) {
  TempDir root;
  auto server = TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
  ASSERT_NE(server, nullptr);
  const ProcessResult r =
      RunProcess("/usr/bin/env", {"TEXTCLF_SERVER=" + server->address(), TEXTCLF_CLI_PATH, "models", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("name"));
  // --server still wins over the environment.
  const ProcessResult flag = RunProcess(
      "/usr/bin/env", {"TEXTCLF_SERVER=127.0.0.1:1", TEXTCLF_CLI_PATH, "models", "list", "--server", server->address()});
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
}

TEST(VersionFlag, PrintsTheBuildsVersion) {
  const ProcessResult r = RunProcess(TEXTCLF_CLI_PATH, {"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("textclf ") + TEXTCLF_VERSION + "\n");
}

}  // namespace
}  // namespace textclf::testing
