// The percentile arithmetic (nearest rank) and the stability rule, on samples whose answers are
// known by hand.
#include <gtest/gtest.h>

#include <vector>

#include "client/loadgen/percentiles.h"
#include "client/loadgen/stability.h"

namespace textclf::loadgen {
namespace {

std::vector<double> OneToN(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

TEST(NearestRankPercentile, ZeroIsTheMinimumAndHundredTheMaximum) {
  const std::vector<double> v = OneToN(10);
  EXPECT_EQ(NearestRankPercentile(v, 0), 1);
  EXPECT_EQ(NearestRankPercentile(v, 100), 10);
}

TEST(NearestRankPercentile, PicksTheSampleOfRankCeilingOfPTimesN) {
  const std::vector<double> v = OneToN(10);
  EXPECT_EQ(NearestRankPercentile(v, 10), 1);  // rank 1
  EXPECT_EQ(NearestRankPercentile(v, 11), 2);  // rank ceil(1.1) = 2
  EXPECT_EQ(NearestRankPercentile(v, 50), 5);
  EXPECT_EQ(NearestRankPercentile(v, 90), 9);
  EXPECT_EQ(NearestRankPercentile(v, 99), 10);
}

TEST(NearestRankPercentile, NeverInterpolatesBetweenSamples) {
  const std::vector<double> v = {10, 20};
  EXPECT_EQ(NearestRankPercentile(v, 50), 10);
  EXPECT_EQ(NearestRankPercentile(v, 51), 20);
}

TEST(NearestRankPercentile, LandsOnTheExactRankDespiteFloatingPointForP999OfAThousand) {
  // 99.9 / 100 * 1000 is 999.0000000000001 in binary floating point; the rank is still 999.
  EXPECT_EQ(NearestRankPercentile(OneToN(1000), 99.9), 999);
  EXPECT_EQ(NearestRankPercentile(OneToN(1000), 99), 990);
}

TEST(NearestRankPercentile, ReturnsTheTiedValueAcrossARunOfEqualSamples) {
  const std::vector<double> v = {1, 2, 2, 2, 3};
  EXPECT_EQ(NearestRankPercentile(v, 20), 1);
  EXPECT_EQ(NearestRankPercentile(v, 21), 2);
  EXPECT_EQ(NearestRankPercentile(v, 80), 2);
  EXPECT_EQ(NearestRankPercentile(v, 81), 3);
}

TEST(NearestRankPercentile, GivesTheOnlySampleForEveryPercentOfASingleSample) {
  const std::vector<double> v = {7.5};
  for (double p : {0.0, 50.0, 99.9, 100.0}) EXPECT_EQ(NearestRankPercentile(v, p), 7.5) << p;
}

TEST(Summarize, SortsUnsortedSamplesAndReportsEveryFigure) {
  std::vector<double> v = OneToN(1000);
  std::reverse(v.begin(), v.end());
  const Distribution d = Summarize(v);
  EXPECT_EQ(d.count, 1000u);
  EXPECT_EQ(d.min, 1);
  EXPECT_EQ(d.max, 1000);
  EXPECT_DOUBLE_EQ(d.mean, 500.5);
  EXPECT_EQ(d.p50, 500);
  EXPECT_EQ(d.p90, 900);
  EXPECT_EQ(d.p95, 950);
  EXPECT_EQ(d.p99, 990);
  EXPECT_EQ(d.p999, 999);
}

TEST(Summarize, GivesZerosForNoSamples) {
  std::vector<double> v;
  const Distribution d = Summarize(v);
  EXPECT_EQ(d.count, 0u);
  EXPECT_EQ(d.p99, 0);
}

TEST(IsStable, NeedsThreeWindows) {
  EXPECT_FALSE(IsStable({100, 100}, 10));
  EXPECT_TRUE(IsStable({100, 100, 100}, 10));
}

TEST(IsStable, LooksOnlyAtTheLastThreeWindowsEachWithinThePercentOfTheirMean) {
  EXPECT_TRUE(IsStable({10, 500, 100, 104, 98}, 5));  // mean 100.67: all within 5%
  EXPECT_FALSE(IsStable({100, 100, 120}, 5));          // mean 106.7: 120 is 12.5% above
}

}  // namespace
}  // namespace textclf::loadgen
