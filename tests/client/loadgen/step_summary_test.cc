// A step's figures from its samples: throughput and latency percentiles of successful requests
// only, errors counted apart with their own rate and latency.
#include <gtest/gtest.h>

#include "client/loadgen/step_result.h"

namespace textclf::loadgen {
namespace {

Sample At(double ms, grpc::StatusCode code, int texts = 1) {
  Sample s;
  s.latency_ns = static_cast<int64_t>(ms * 1e6);
  s.code = code;
  s.texts = texts;
  return s;
}

// The run that prompted the rule: most requests refused at once, so that counting them made the
// server look fast (14.5k req/s, p99 6.3 ms) while it answered few.
TEST(SummarizeSamples, LeavesErrorsOutOfThroughputAndPercentiles) {
  std::vector<Sample> samples;
  for (int i = 0; i < 41; ++i) samples.push_back(At(10 + i * 0.01, grpc::StatusCode::OK, 4));
  for (int i = 0; i < 59; ++i) samples.push_back(At(0.1, grpc::StatusCode::RESOURCE_EXHAUSTED));
  StepResult r;
  SummarizeSamples(samples, /*elapsed_s=*/2, &r);
  EXPECT_EQ(r.requests, 100);
  EXPECT_EQ(r.ok, 41);
  EXPECT_DOUBLE_EQ(r.throughput_rps, 20.5);
  EXPECT_DOUBLE_EQ(r.texts_per_s, 82);
  EXPECT_DOUBLE_EQ(r.answered_rps, 50);
  EXPECT_DOUBLE_EQ(r.error_rps, 29.5);
  EXPECT_DOUBLE_EQ(r.error_rate, 0.59);
  EXPECT_EQ(r.latency_ms.count, 41u);
  EXPECT_GE(r.latency_ms.min, 10) << "no refused request's 0.1 ms among the successful latencies";
  EXPECT_NEAR(r.latency_ms.p99, 10.4, 1e-9);
  EXPECT_EQ(r.error_latency_ms.count, 59u);
  EXPECT_NEAR(r.error_latency_ms.p99, 0.1, 1e-9);
  EXPECT_EQ(r.status_counts["RESOURCE_EXHAUSTED"], 59);
}

TEST(SummarizeSamples, AStepWithoutSuccessHasNoThroughputAndEmptyLatencies) {
  StepResult r;
  SummarizeSamples({At(1, grpc::StatusCode::UNAVAILABLE), At(2, grpc::StatusCode::UNAVAILABLE)}, 1, &r);
  EXPECT_EQ(r.throughput_rps, 0);
  EXPECT_EQ(r.latency_ms.count, 0u);
  EXPECT_EQ(r.latency_ms.p99, 0);
  EXPECT_DOUBLE_EQ(r.error_rate, 1);
  EXPECT_EQ(r.error_latency_ms.max, 2);
}

}  // namespace
}  // namespace textclf::loadgen
