#include "core/xclass/class_expansion.h"

#include <cmath>
#include <numbers>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Eigen::MatrixXf AtAngles(const std::vector<double>& degrees) {
  Eigen::MatrixXf m(static_cast<Eigen::Index>(degrees.size()), 2);
  for (size_t i = 0; i < degrees.size(); ++i) {
    const double r = degrees[i] * std::numbers::pi / 180;
    m(static_cast<Eigen::Index>(i), 0) = static_cast<float>(std::cos(r));
    m(static_cast<Eigen::Index>(i), 1) = static_cast<float>(std::sin(r));
  }
  return m;
}

TEST(ClassExpansion, WeightsTheKthKeywordOneOverK) {
  Eigen::MatrixXf v(3, 2);
  v << 1, 0, 0, 1, 3, 3;
  const Eigen::VectorXf avg = HarmonicAverage(v, {0, 1, 2});
  // (1*(1,0) + 1/2*(0,1) + 1/3*(3,3)) / (1 + 1/2 + 1/3)
  EXPECT_NEAR(avg(0), 2.0 / (11.0 / 6), 1e-6);
  EXPECT_NEAR(avg(1), 1.5 / (11.0 / 6), 1e-6);
}

// Word angles: a=0 (class A's name), b=90 (class B's), 35, 40, 60, 30, -5 degrees. Worked by hand:
// round 1 A adds -5, B adds 60; round 2 A adds 30 (nearer its mean than 35), B adds 40 (the
// boundary has moved to 39.2); round 3 A adds 35, B has nothing left; round 4 A's mean is at 7.6
// degrees and B's at 72.9, so B's keyword 40 is now nearest A: A stops and drops 35.
TEST(ClassExpansion, StopsWhenAnotherClassKeywordTurnsNearestAndDropsTheLastWord) {
  const Eigen::MatrixXf words = AtAngles({0, 90, 35, 40, 60, 30, -5});
  const ClassExpansion e = ExpandClasses(words, {{0}, {1}}, 100);
  EXPECT_THAT(e.keywords[0], ElementsAre(0, 6, 5));
  EXPECT_THAT(e.keywords[1], ElementsAre(1, 4, 3));
  const Eigen::VectorXf a = HarmonicAverage(words, {0, 6, 5});
  EXPECT_TRUE(e.representations.row(0).isApprox(a.transpose(), 1e-6f));
}

TEST(ClassExpansion, StopsAtTheKeywordLimit) {
  const Eigen::MatrixXf words = AtAngles({0, 90, 35, 40, 60, 30, -5});
  const ClassExpansion e = ExpandClasses(words, {{0}, {1}}, 2);
  EXPECT_THAT(e.keywords[0], ElementsAre(0, 6));
  EXPECT_THAT(e.keywords[1], ElementsAre(1, 4));
}

// A=80, B=90, then 84 and 0 degrees. Round 1: A adds 84, B has
// nothing nearest; round 2: A adds 0; round 3: A's mean is at 69.6 degrees, so its own name (80)
// is now nearer B (90): A stops and drops 0, its last keyword.
TEST(ClassExpansion, StopsWhenOneOfItsOwnKeywordsTurnsNearestAnotherClass) {
  const ClassExpansion e = ExpandClasses(AtAngles({80, 90, 84, 0}), {{0}, {1}}, 10);
  EXPECT_THAT(e.keywords[0], ElementsAre(0, 2));
  EXPECT_THAT(e.keywords[1], ElementsAre(1));
}

TEST(ClassExpansion, NamesClassNamesWithoutRepresentation) {
  StaticVocabulary vocab;
  vocab.words = {"sports", "politics"};
  vocab.index = {{"sports", 0}, {"politics", 1}};
  auto seeds = ResolveClassNames(vocab, {{"sports"}, {"business"}, {"sci", "tech"}}, {"Sports", "Business", "Sci/Tech"}, 5);
  ASSERT_FALSE(seeds.ok());
  EXPECT_THAT(std::string(seeds.status().message()), HasSubstr("\"Business\", \"Sci/Tech\""));
  EXPECT_THAT(std::string(seeds.status().message()), HasSubstr("at least 5 times"));
  auto ok = ResolveClassNames(vocab, {{"sports"}, {"politics", "sports"}}, {"sports", "politics sports"}, 5);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT((*ok)[1], ElementsAre(1, 0));
  auto same = ResolveClassNames(vocab, {{"sports"}, {"sports"}}, {"sports", "Sports"}, 5);
  EXPECT_THAT(std::string(same.status().message()), HasSubstr("same words"));
}

}  // namespace
}  // namespace textclf::xclass
