#include "core/xclass/document_representation.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

using ::testing::ElementsAre;

TEST(RankFusion, RanksHighestFirstKeepingTiesInOrder) {
  const std::vector<double> scores = {0.2, 0.9, 0.2, 0.5};
  EXPECT_THAT(RankDescending(scores), ElementsAre(2, 0, 3, 1));
}

TEST(RankFusion, WeightsByTheRankOfTheProductOfRanks) {
  // Products of (rank + 1): 1*3 = 3, 2*2 = 4, 3*1 = 3; fused ranks 0, 2, 1; weights 1/(r + 1).
  EXPECT_THAT(FusedRankWeights({{0, 1, 2}, {2, 1, 0}}), ElementsAre(1.0, 1.0 / 3, 0.5));
  // One ranking alone gives the harmonic weights of its own order.
  EXPECT_THAT(FusedRankWeights({{1, 0, 2}}), ElementsAre(0.5, 1.0, 1.0 / 3));
}

TEST(RankFusion, ScoresSignificanceAndRelation) {
  Eigen::MatrixXf classes(2, 2);
  classes << 1, 0, 0, 1;
  Eigen::MatrixXf words(2, 2);
  words << 2, 0, 1, 1;
  const std::vector<double> significance = SignificanceScores(words, classes);
  EXPECT_NEAR(significance[0], std::exp(1.0) / (std::exp(1.0) + 1), 1e-6);  // softmax(1, 0)
  EXPECT_NEAR(significance[1], 0.5, 1e-6);
  const ClassSpace space(classes);
  const std::vector<double> relation = RelationScores(words, space.unit_mean);
  EXPECT_NEAR(relation[0], std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(relation[1], 1.0, 1e-6);
}

TEST(RankFusion, WeighsTheWordsThatPointAtAClassMost) {
  // Classes along the axes. Word 0 lies on class 0 (contextual and static); word 1 lies between
  // the classes in context but its static representation is class 1's. Rankings (0-based):
  // contextual significance 0, 1; contextual relation 1, 0; static significance (both 0.731,
  // a tie kept in order) 0, 1; static relation (tie) 0, 1. Products 1*2*1*1 = 2 and 2*1*2*2 = 8:
  // word 0 weighs 1, word 1 weighs 1/2.
  Eigen::MatrixXf classes(2, 2);
  classes << 1, 0, 0, 1;
  Eigen::MatrixXf contextual(2, 2), statics(2, 2);
  contextual << 1, 0, 1, 1;
  statics << 1, 0, 0, 1;
  const Eigen::VectorXf rep = ClassOrientedRepresentation(contextual, statics, ClassSpace(classes));
  EXPECT_NEAR(rep(0), (1 * 1 + 0.5 * 1) / 1.5, 1e-6);
  EXPECT_NEAR(rep(1), (0.5 * 1) / 1.5, 1e-6);
  // Attention weights multiply the fused ones: word 1 receiving 4x the attention flips the balance.
  const std::vector<float> attention = {0.1f, 0.4f};
  const Eigen::VectorXf attended = ClassOrientedRepresentation(contextual, statics, ClassSpace(classes), attention);
  EXPECT_NEAR(attended(1), (0.5 * 0.4) / (0.1 + 0.5 * 0.4), 1e-6);
}

TEST(RankFusion, AnEmptyDocumentIsZero) {
  Eigen::MatrixXf classes(2, 3);
  classes << 1, 0, 0, 0, 1, 0;
  const Eigen::VectorXf rep = ClassOrientedRepresentation(Eigen::MatrixXf(0, 3), Eigen::MatrixXf(0, 3), ClassSpace(classes));
  EXPECT_EQ(rep.size(), 3);
  EXPECT_EQ(rep.norm(), 0.f);
}

}  // namespace
}  // namespace textclf::xclass
