#include "core/torch/vector_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace textclf::torch_support {
namespace {

// Distance from the correctly rounded float, in units of its last place.
double UlpError(float x) {
  const double exact = std::exp(static_cast<double>(x));
  const float rounded = static_cast<float>(exact);
  const double ulp = std::nextafter(rounded, std::numeric_limits<float>::infinity()) - rounded;
  return std::abs(static_cast<double>(ExpNonPositive(x)) - exact) / ulp;
}

TEST(ExpNonPositive, IsWithinTwoUlpOfExpOverTheWholeRange) {
  double worst = 0;
  float worst_at = 0;
  for (float x = -87.0f; x <= 0.0f; x += 1.0f / 1024) {  // 89k points, including every integer
    const double error = UlpError(x);
    if (error > worst) worst = error, worst_at = x;
  }
  EXPECT_LE(worst, 2.0) << "at x = " << worst_at;
  EXPECT_EQ(ExpNonPositive(0.0f), 1.0f);
  EXPECT_LE(UlpError(-1e-30f), 1.0);
}

TEST(ExpNonPositive, BottomsOutAtTheSmallestNormalRangeAndKeepsNaN) {
  const float floor = ExpNonPositive(-87.0f);
  EXPECT_GT(floor, 0.0f);
  EXPECT_LT(floor, 2e-38f);
  EXPECT_EQ(ExpNonPositive(-1000.0f), floor);
  EXPECT_EQ(ExpNonPositive(-std::numeric_limits<float>::infinity()), floor);
  EXPECT_TRUE(std::isnan(ExpNonPositive(std::numeric_limits<float>::quiet_NaN())));
}

}  // namespace
}  // namespace textclf::torch_support
