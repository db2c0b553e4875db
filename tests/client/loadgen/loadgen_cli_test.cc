// The textclf-loadgen binary itself: exit codes, JSON on stdout, and the CSV and SVG files.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/server/server_test_support.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

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

TEST_F(LoadgenCliTest, PrintsATableByDefault) {
  textclf::testing::TempDir root;
  auto server = textclf::testing::TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
  ASSERT_NE(server, nullptr);
  const Result r = Run({"--target", server->address(), "--health", "--requests", "20", "--warmup", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("p99.9"));
  EXPECT_THAT(r.out, HasSubstr("concurrency 1"));
}

}  // namespace
}  // namespace textclf::loadgen
