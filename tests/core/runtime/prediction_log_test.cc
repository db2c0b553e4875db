#include "core/runtime/prediction_log.h"

#include <gtest/gtest.h>

namespace textclf::runtime {
namespace {

TEST(PredictionLog, FindsRecentRequestsAndForgetsOldOnes) {
  PredictionLog log(/*max_texts=*/5, /*window=*/10);
  log.Record("r1", {"m", 1, {0, 1, 1}});
  log.Record("r2", {"m", 1, {1, 1}});
  ASSERT_TRUE(log.Find("r1").has_value());
  EXPECT_EQ(log.Find("r1")->predicted, (std::vector<int>{0, 1, 1}));
  log.Record("r3", {"m", 2, {0}});  // 6 texts: r1 goes
  EXPECT_FALSE(log.Find("r1").has_value());
  EXPECT_EQ(log.Find("r3")->version, 2);
  EXPECT_FALSE(log.Find("nope").has_value());
}

TEST(PredictionLog, AccuracyIsOverTheRecentWindowPerVersion) {
  PredictionLog log(100, /*window=*/4);
  EXPECT_DOUBLE_EQ(log.AddOutcome("m", 1, true), 1.0);
  EXPECT_DOUBLE_EQ(log.AddOutcome("m", 1, false), 0.5);
  EXPECT_DOUBLE_EQ(log.AddOutcome("m", 2, false), 0.0);
  log.AddOutcome("m", 1, false);
  log.AddOutcome("m", 1, false);
  // Window of 4: the first "true" has left.
  EXPECT_DOUBLE_EQ(log.AddOutcome("m", 1, true), 0.25);
}

}  // namespace
}  // namespace textclf::runtime
