#include "core/xclass/confidence_selection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

using ::testing::ElementsAre;

const std::vector<int> kLabels = {0, 0, 0, 0, 1, 1, 1, 0};
const std::vector<double> kConfidence = {0.9, 0.5, 0.99, 0.6, 0.7, 0.95, 0.8, 0.55};

TEST(ConfidenceSelection, KeepsTheMostConfidentFractionOfEachClass) {
  // Class 0 has 5 documents (keep 2: 0.99 and 0.9), class 1 has 3 (keep 1: 0.95).
  EXPECT_THAT(SelectConfident(kLabels, kConfidence, 2, {0.5, false}), ElementsAre(0, 2, 5));
  EXPECT_THAT(SelectConfident(kLabels, kConfidence, 2, {1.0, false}).size(), 8u);
  // A class always keeps its best document.
  EXPECT_THAT(SelectConfident(kLabels, kConfidence, 2, {0.01, false}), ElementsAre(2, 5));
}

TEST(ConfidenceSelection, PerClassThresholdsKeepDocumentsCloserThanTheClassMean) {
  // Class 0 distances 0.1, 0.5, 0.01, 0.4, 0.45: mean 0.292 -> keeps 0.99 and 0.9.
  // Class 1 distances 0.3, 0.05, 0.2: mean 0.183 -> keeps 0.95 only.
  EXPECT_THAT(SelectConfident(kLabels, kConfidence, 2, {0.5, true}), ElementsAre(0, 2, 5));
  // A tight class keeps more than half.
  const std::vector<int> labels = {0, 0, 0, 0};
  const std::vector<double> tight = {0.99, 0.98, 0.97, 0.5};
  EXPECT_THAT(SelectConfident(labels, tight, 1, {0.5, true}), ElementsAre(0, 1, 2));
}

}  // namespace
}  // namespace textclf::xclass
