// The reports and the gates, on hand-made step results.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "client/loadgen/gates.h"
#include "client/loadgen/report.h"

namespace textclf::loadgen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

StepResult Step(int concurrency, double rps, double p50, double p99, int64_t errors) {
  StepResult s;
  s.mode = "closed";
  s.workload = "classify";
  s.concurrency = concurrency;
  s.batch_size = 8;
  s.requests = 1000;
  s.ok = 1000 - errors;
  s.elapsed_s = 1000 / rps;
  s.throughput_rps = rps;
  s.texts_per_s = rps * 8;
  s.error_rate = errors / 1000.0;
  s.latency_ms = {1000, p50 / 2, p50, p50, p50 * 1.5, p99 * 0.9, p99, p99 * 1.1, p99 * 1.2};
  s.status_counts["OK"] = s.ok;
  if (errors > 0) s.status_counts["UNAVAILABLE"] = errors;
  s.server_compute_ms = Distribution{1000, 0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6, 0.7};
  s.windows = 1;
  s.stable = true;
  return s;
}

TEST(StepToJson, HasEveryFieldScriptsRelyOn) {
  const nlohmann::ordered_json j = StepToJson(Step(8, 2000, 3, 9, 5));
  for (const char* key : {"mode", "concurrency", "requests", "throughput_rps", "texts_per_s", "p50_ms", "p90_ms",
                          "p95_ms", "p99_ms", "p999_ms", "max_ms", "min_ms", "errors", "status_counts",
                          "server_queue_ms_mean", "server_compute_ms_mean", "server_compute_ms_p99",
                          "answered_rps", "error_rps", "error_p50_ms", "error_p99_ms"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["mode"], "closed");
  EXPECT_EQ(j["concurrency"], 8);
  EXPECT_EQ(j["errors"]["UNAVAILABLE"], 5);
  EXPECT_FALSE(j["errors"].contains("OK"));
  EXPECT_EQ(j["status_counts"]["OK"], 995);
  EXPECT_TRUE(j["server_queue_ms_mean"].is_null()) << "no queue figures were recorded";
  EXPECT_DOUBLE_EQ(j["server_compute_ms_mean"].get<double>(), 0.2);
}

TEST(StepToJson, NamesTheRateAndArrivalsOfAnOpenLoopStep) {
  StepResult s = Step(0, 200, 1, 2, 0);
  s.mode = "open";
  s.rate = 200;
  s.arrivals = "poisson";
  const nlohmann::ordered_json j = StepToJson(s);
  EXPECT_EQ(j["rate"], 200.0);
  EXPECT_EQ(j["arrivals"], "poisson");
  EXPECT_FALSE(j.contains("concurrency"));
}

TEST(StepsToCsv, WritesAHeaderAndOneLinePerStepWithTheErrorsInOneCell) {
  const std::string csv = StepsToCsv({Step(1, 500, 2, 4, 0), Step(8, 2000, 3, 9, 5)});
  std::istringstream in(csv);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_THAT(lines, SizeIs(3));
  EXPECT_THAT(lines[0], HasSubstr("mode,workload,concurrency,rate"));
  EXPECT_THAT(lines[0], HasSubstr(",interrupted,answered_rps,error_rps,error_p50_ms,error_p99_ms"))
      << "new columns come after the old ones";
  EXPECT_THAT(lines[2], HasSubstr("UNAVAILABLE=5"));
  const auto columns = [](const std::string& line) { return std::count(line.begin(), line.end(), ','); };
  EXPECT_EQ(columns(lines[1]), columns(lines[0]));
  EXPECT_EQ(columns(lines[2]), columns(lines[0]));
}

TEST(LatencyThroughputSvg, DrawsThreePercentileLinesWithAxesTicksAndALegend) {
  const std::string svg =
      LatencyThroughputSvg({Step(1, 500, 2, 4, 0), Step(8, 2000, 3, 9, 0), Step(32, 2600, 12, 40, 20)}, "a <title>");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 20, true);
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++polylines;
  EXPECT_EQ(polylines, 3u);
  for (const char* text : {">p50<", ">p90<", ">p99<", "throughput (successful requests/s)", "latency (ms, log scale)",
                           ">c=32<", ">3000<", "a &lt;title&gt;"}) {
    EXPECT_THAT(svg, HasSubstr(text));
  }
}

// Latency spans decades between a light and a saturated step: on a log axis from the decade
// below the fastest point to the one above the slowest, with 1-2-5 ticks.
TEST(LatencyThroughputSvg, PutsLatencyOnALogAxisThatFitsTheData) {
  const std::string svg =
      LatencyThroughputSvg({Step(1, 500, 0.3, 0.6, 0), Step(8, 2000, 3, 9, 0), Step(64, 2600, 120, 310, 0)}, "t");
  for (const char* tick : {">0.1<", ">0.2<", ">0.5<", ">1<", ">10<", ">100<", ">1000<"}) {
    EXPECT_THAT(svg, HasSubstr(tick)) << tick;
  }
  EXPECT_THAT(svg, Not(HasSubstr(">0.01<"))) << "no decade below the data";
  EXPECT_THAT(svg, Not(HasSubstr(">10000<"))) << "no decade above it";
}

// Every step's numbers are on the page, not only in tooltips.
TEST(LatencyThroughputSvg, WritesEveryStepsNumbersInATableBesideThePlot) {
  const std::string svg =
      LatencyThroughputSvg({Step(1, 500, 2, 4, 0), Step(8, 2000, 3, 9, 0), Step(32, 2600, 12, 40, 20)}, "t");
  for (const char* text : {">concurrency 32<", ">2600<", ">12.0<", ">40.0<", ">2.0<", ">error %<", ">ok req/s<"}) {
    EXPECT_THAT(svg, HasSubstr(text)) << text;
  }
}

TEST(LatencyThroughputSvg, LeavesOutTheLatencyOfAStepWithoutSuccesses) {
  StepResult failed = Step(64, 0, 0, 0, 1000);
  failed.latency_ms = Distribution{};
  const std::string svg = LatencyThroughputSvg({Step(1, 500, 2, 4, 0), failed}, "t");
  EXPECT_THAT(svg, HasSubstr(">concurrency 64<"));
  EXPECT_THAT(svg, HasSubstr(">100.0<")) << "its error share is in the table";
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  EXPECT_THAT(LatencyThroughputSvg({failed}, "t"), HasSubstr("no step had a successful request"));
}

TEST(GateFailures, PassesStepsWithinTheLimits) {
  EXPECT_THAT(GateFailures({Step(1, 500, 2, 4, 0)}, Gates{0.01, 5}), SizeIs(0));
  EXPECT_THAT(GateFailures({Step(1, 500, 2, 400, 999)}, Gates{}), SizeIs(0)) << "no gates, nothing fails";
}

TEST(GateFailures, NamesTheStepAndTheLimitExceeded) {
  const auto failures = GateFailures({Step(1, 500, 2, 4, 0), Step(32, 900, 9, 60, 50)}, Gates{0.01, 50});
  ASSERT_THAT(failures, SizeIs(2));
  EXPECT_THAT(failures[0], HasSubstr("concurrency 32: error rate 0.05"));
  EXPECT_THAT(failures[1], HasSubstr("concurrency 32: p99 60 ms exceeds --max-p99 50"));
}

}  // namespace
}  // namespace textclf::loadgen
