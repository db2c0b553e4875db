#include "core/runtime/statistics_collector.h"

#include <gtest/gtest.h>

#include "tests/core/runtime/fake_model.h"

namespace textclf::runtime {
namespace {

TEST(LatencyHistogram, QuantilesFallInTheRightBuckets) {
  LatencyHistogram h;
  for (int i = 0; i < 90; ++i) h.Add(0.001);  // 1 ms: bucket (0.8, 1.6] ms
  for (int i = 0; i < 10; ++i) h.Add(0.1);    // 100 ms: bucket (51.2, 102.4] ms
  v1::LatencySummary s = h.Summary();
  EXPECT_EQ(s.count(), 100);
  EXPECT_NEAR(s.mean_ms(), (90 * 1.0 + 10 * 100.0) / 100, 1e-9);
  EXPECT_GT(s.p50_ms(), 0.8);
  EXPECT_LE(s.p50_ms(), 1.6);
  EXPECT_GT(s.p99_ms(), 51.2);
  EXPECT_LE(s.p99_ms(), 102.4);
}

TEST(StatisticsCollector, CountsRequestsBatchesAndFeedbackPerVersion) {
  FakeModel v1("m", 1), v2("m", 2);
  StatisticsCollector stats;
  std::vector<float> confidences = {0.9f, 0.7f};
  stats.OnPending(v1, +1);
  stats.OnBatch(v1, 2, 0.002);
  stats.OnRequestDone(v1, absl::OkStatus(), 2, 0.004, 0.001, 0.002, confidences);
  stats.OnPending(v1, -1);
  stats.OnRequestDone(v1, absl::DeadlineExceededError("late"), 3, 0.05, 0, 0, {});
  // Outcomes come from the RPC path, once per call, refusals included.
  stats.OnRpcDone("Classify", "m", 1, absl::StatusCode::kOk, 0.004);
  stats.OnRpcDone("Classify", "m", 1, absl::StatusCode::kDeadlineExceeded, 0.05);
  stats.OnRpcDone("ListModels", "", 0, absl::StatusCode::kOk, 0.001);  // not a model's
  stats.OnFeedback(v1, true, 1.0);
  stats.OnFeedback(v1, false, 0.5);
  stats.OnBatch(v2, 8, 0.001);
  auto all = stats.Snapshot("");
  ASSERT_EQ(all.size(), 2u);
  const v1::VersionStatistics& s = all[0];
  EXPECT_EQ(s.version(), 1);
  EXPECT_EQ(s.requests_by_code().at("OK"), 1);
  EXPECT_EQ(s.requests_by_code().at("DEADLINE_EXCEEDED"), 1);
  EXPECT_EQ(s.inferences(), 2);
  EXPECT_EQ(s.batches(), 1);
  EXPECT_DOUBLE_EQ(s.mean_batch_size(), 2);
  EXPECT_EQ(s.pending_requests(), 0);
  EXPECT_EQ(s.request_latency().count(), 2);
  EXPECT_EQ(s.feedback_correct(), 1);
  EXPECT_EQ(s.feedback_incorrect(), 1);
  EXPECT_DOUBLE_EQ(s.online_accuracy(), 0.5);
  EXPECT_NEAR(s.mean_confidence(), 0.8, 1e-6);
  EXPECT_EQ(stats.Snapshot("other").size(), 0u);
  // A version's figures go with it.
  stats.OnModelUnloaded(v1);
  ASSERT_EQ(stats.Snapshot("m").size(), 1u);
  EXPECT_EQ(stats.Snapshot("m")[0].version(), 2);
}

}  // namespace
}  // namespace textclf::runtime
