// Sweep lists and ranges for --concurrency and --rate: the values they give and the items they
// refuse, with the flag and the item named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/loadgen/sweep_values.h"

namespace textclf::loadgen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<double> Values(const std::vector<std::string>& items) {
  absl::StatusOr<std::vector<double>> values = ExpandSweep(items, "--concurrency");
  EXPECT_TRUE(values.ok()) << values.status();
  return values.ok() ? *values : std::vector<double>{};
}

std::string Error(const std::vector<std::string>& items) {
  absl::StatusOr<std::vector<double>> values = ExpandSweep(items, "--rate");
  EXPECT_FALSE(values.ok());
  return std::string(values.status().message());
}

TEST(ExpandSweep, KeepsPlainNumbersInOrder) { EXPECT_THAT(Values({"8", "1", "32"}), ElementsAre(8, 1, 32)); }

TEST(ExpandSweep, StepsALinearRangeUpToItsEnd) {
  EXPECT_THAT(Values({"1:9:4"}), ElementsAre(1, 5, 9));
  EXPECT_THAT(Values({"1:10:4"}), ElementsAre(1, 5, 9)) << "nothing above END";
  EXPECT_THAT(Values({"5:5:1"}), ElementsAre(5));
  EXPECT_THAT(Values({"0.1:0.3:0.1"}), ElementsAre(0.1, ::testing::DoubleNear(0.2, 1e-12), ::testing::DoubleNear(0.3, 1e-12)))
      << "floating-point steps keep END";
}

TEST(ExpandSweep, MultipliesAGeometricRange) {
  EXPECT_THAT(Values({"1:64:x2"}), ElementsAre(1, 2, 4, 8, 16, 32, 64));
  EXPECT_THAT(Values({"50:500:2x"}), ElementsAre(50, 100, 200, 400));
}

TEST(ExpandSweep, MixesNumbersAndRanges) { EXPECT_THAT(Values({"1", "2", "8:16:4"}), ElementsAre(1, 2, 8, 12, 16)); }

TEST(ExpandSweep, NamesTheFlagAndTheItemItRefuses) {
  EXPECT_THAT(Error({"fast"}), HasSubstr("--rate: \"fast\" is not a number"));
  EXPECT_THAT(Error({"1:9"}), HasSubstr("START:END:STEP"));
  EXPECT_THAT(Error({"9:1:1"}), HasSubstr("starts above its end"));
  EXPECT_THAT(Error({"1:9:0"}), HasSubstr("STEP above 0"));
  EXPECT_THAT(Error({"1:9:x1"}), HasSubstr("FACTOR above 1"));
  EXPECT_THAT(Error({"0:9:x2"}), HasSubstr("START above 0"));
  EXPECT_THAT(Error({"1:9:y"}), HasSubstr("\"1:9:y\""));
  EXPECT_THAT(Error({"1:100000:1"}), HasSubstr("more than 1000 values"));
}

}  // namespace
}  // namespace textclf::loadgen
