// The README's curl examples work as written: the block after the "curl examples" marker is
// read from README.md, and each curl command in it runs (with bash and the real curl) against a
// server serving a `clickbait` model, only the port changed to the one the test's server got.
// Each must exit 0 and print JSON without an "error".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "tests/server/http/http_test_client.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

// The commands of the README's curl block: each starts at a line beginning with "curl " and
// runs on until the next one (multi-line JSON bodies in quotes).
std::vector<std::string> ReadmeCurlCommands() {
  std::ifstream in(TEXTCLF_README_PATH);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t marker = readme.find("<!-- curl examples");
  if (marker == std::string::npos) return {};
  const size_t start = readme.find("```sh\n", marker);
  const size_t end = readme.find("```\n", start + 6);
  if (start == std::string::npos || end == std::string::npos) return {};
  std::istringstream block(readme.substr(start + 6, end - start - 6));
  std::vector<std::string> commands;
  for (std::string line; std::getline(block, line);) {
    if (line.rfind("curl ", 0) == 0) {
      commands.push_back(line + "\n");
    } else if (!commands.empty()) {
      commands.back() += line + "\n";
    }
  }
  return commands;
}

struct ShellRun {
  int exit_code = -1;
  std::string output;
};

ShellRun RunWithBash(const std::filesystem::path& script_path, const std::string& command) {
  {
    std::ofstream script(script_path);
    script << "set -euo pipefail\n" << command;
  }
  ShellRun run;
  FILE* pipe = ::popen(("bash " + script_path.string() + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) run.output.append(buffer, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(ReadmeCurl, TheExamplesWorkAsWritten) {
  const std::vector<std::string> commands = ReadmeCurlCommands();
  ASSERT_GE(commands.size(), 4u) << "the README's curl block was not found in " << TEXTCLF_README_PATH;
  TempDir root;
  auto server = StartWithHttp(root.path() / "models");
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Train(server->stub(), ZestStart("clickbait"), ClickbaitSlice(100)).status.ok());
  const std::string port = std::to_string(server->server().http_port());
  bool inferred = false;
  for (const std::string& written : commands) {
    SCOPED_TRACE(written);
    const std::string command = absl::StrReplaceAll(written, {{"localhost:8080", "localhost:" + port}});
    ASSERT_NE(command, written) << "every example names localhost:8080";
    const ShellRun run = RunWithBash(root.path() / "example.sh", command);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const Json answer = Json::parse(run.output, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(answer.is_discarded()) << "not JSON: " << run.output;
    EXPECT_FALSE(answer.contains("error")) << run.output;
    if (answer.contains("model_name")) {  // an infer answer
      inferred = true;
      EXPECT_EQ(answer["model_name"], "clickbait");
      EXPECT_EQ(answer["outputs"][0]["data"].size(), 2u) << run.output;
    }
  }
  EXPECT_TRUE(inferred) << "one example is an infer call";
}

}  // namespace
}  // namespace textclf::testing
