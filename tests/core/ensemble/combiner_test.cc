// The combination rules on made-up member probabilities, where the right answer is known:
// averages are exact means, fitted weights favour the member that is right, stacking learns
// what a mean cannot, and a manifest's state is checked before it is trusted.
#include "core/ensemble/combiner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace textclf::ensemble {
namespace {

// Two classes, `n` rows. Member 0 is right with confidence `good`, member 1 is a coin flip.
MemberScores OneGoodOneNoisy(size_t n, float good, uint64_t seed = 1) {
  MemberScores s;
  s.members = 2;
  s.classes = 2;
  s.probabilities.assign(2, std::vector<float>(n * 2));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  for (size_t i = 0; i < n; ++i) {
    const int y = static_cast<int>(i % 2);
    s.labels.push_back(y);
    s.probabilities[0][i * 2 + y] = good;
    s.probabilities[0][i * 2 + 1 - y] = 1 - good;
    const float p = uniform(rng);
    s.probabilities[1][i * 2] = p;
    s.probabilities[1][i * 2 + 1] = 1 - p;
  }
  return s;
}

TEST(Combiner, AverageIsTheMeanOfTheMembers) {
  const MemberScores s = OneGoodOneNoisy(10, 0.8f);
  auto c = FitCombination(v1::EnsembleConfig::AVERAGE, s, 0);
  ASSERT_TRUE(c.ok()) << c.status();
  const float a[] = {0.9f, 0.1f}, b[] = {0.3f, 0.7f};
  const float* rows[] = {a, b};
  float scores[2], p[2];
  c->Combine(rows, scores, p);
  EXPECT_FLOAT_EQ(p[0], 0.6f);
  EXPECT_FLOAT_EQ(p[1], 0.4f);
  EXPECT_FLOAT_EQ(scores[0], p[0]);
}

TEST(Combiner, WeightsFavourTheMemberThatIsRightAndLowerTheLoss) {
  const MemberScores s = OneGoodOneNoisy(400, 0.8f);
  auto avg = FitCombination(v1::EnsembleConfig::AVERAGE, s, 0);
  auto weighted = FitCombination(v1::EnsembleConfig::WEIGHTED, s, 0);
  ASSERT_TRUE(weighted.ok()) << weighted.status();
  ASSERT_EQ(weighted->weights.size(), 2u);
  EXPECT_NEAR(weighted->weights[0] + weighted->weights[1], 1.0, 1e-9);
  EXPECT_GT(weighted->weights[0], 0.9) << "the noisy member adds nothing";
  EXPECT_LT(MeasureFit(s, -1, &*weighted).log_loss, MeasureFit(s, -1, &*avg).log_loss);
  EXPECT_LE(MeasureFit(s, -1, &*weighted).log_loss, MeasureFit(s, 0, nullptr).log_loss + 1e-3)
      << "the best mixture is at least as good as its best member";
}

TEST(Combiner, StackingLearnsWhatAMeanCannot) {
  // Member 0 is always wrong with confidence 0.9; member 1 knows nothing. Any mean of them is
  // wrong; stacking learns to read member 0 backwards.
  MemberScores s = OneGoodOneNoisy(400, 0.1f);
  auto avg = FitCombination(v1::EnsembleConfig::AVERAGE, s, 0);
  auto stacked = FitCombination(v1::EnsembleConfig::STACKING, s, 1e-3);
  ASSERT_TRUE(stacked.ok()) << stacked.status();
  EXPECT_EQ(stacked->coefficients.size(), 2u * (2 * 2 + 1));
  EXPECT_LT(MeasureFit(s, -1, &*avg).accuracy, 0.1);
  EXPECT_GT(MeasureFit(s, -1, &*stacked).accuracy, 0.99);
  // Its scores are logits; the probabilities are their softmax and sum to 1.
  const float* rows[] = {s.probabilities[0].data(), s.probabilities[1].data()};
  float scores[2], p[2];
  stacked->Combine(rows, scores, p);
  EXPECT_NEAR(p[0] + p[1], 1.0f, 1e-6);
  EXPECT_NEAR(p[0] / p[1], std::exp(scores[0] - scores[1]), 1e-3);
}

TEST(Combiner, CrossValidationPenalizesStackingOnlyWhereItOverfits) {
  // A member that is always right: any penalty only holds the stacker back.
  auto clean = ChooseStackingL2(OneGoodOneNoisy(300, 0.8f));
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_EQ(*clean, 1e-4);
  // Two members of pure noise and random labels, few rows: whatever is fitted is overfitting.
  MemberScores noise = OneGoodOneNoisy(30, 0.5f, 3);
  std::mt19937_64 rng(5);
  for (auto& p : noise.probabilities[0]) p = std::uniform_real_distribution<float>(0.f, 1.f)(rng);
  for (size_t i = 0; i < noise.rows(); ++i) {
    noise.probabilities[0][2 * i + 1] = 1 - noise.probabilities[0][2 * i];
    noise.labels[i] = static_cast<int>(rng() % 2);
  }
  auto noisy = ChooseStackingL2(noise);
  ASSERT_TRUE(noisy.ok());
  EXPECT_EQ(*noisy, 1e-1);
}

TEST(Combiner, FittingNeedsLabelledRowsAndSaneSizes) {
  MemberScores none = OneGoodOneNoisy(0, 0.8f);
  EXPECT_TRUE(FitCombination(v1::EnsembleConfig::AVERAGE, none, 0).ok());
  EXPECT_EQ(FitCombination(v1::EnsembleConfig::WEIGHTED, none, 0).status().code(), absl::StatusCode::kInvalidArgument);
  MemberScores bad_label = OneGoodOneNoisy(4, 0.8f);
  bad_label.labels[2] = 7;
  EXPECT_EQ(FitCombination(v1::EnsembleConfig::STACKING, bad_label, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  MemberScores short_member = OneGoodOneNoisy(4, 0.8f);
  short_member.probabilities[1].pop_back();
  EXPECT_EQ(FitCombination(v1::EnsembleConfig::WEIGHTED, short_member, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FitCombination(v1::EnsembleConfig::STACKING, OneGoodOneNoisy(4, 0.8f), -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Combiner, StateRoundTripsAndHostileStatesAreRefused) {
  const MemberScores s = OneGoodOneNoisy(100, 0.8f);
  for (auto rule : {v1::EnsembleConfig::AVERAGE, v1::EnsembleConfig::WEIGHTED, v1::EnsembleConfig::STACKING}) {
    auto fitted = FitCombination(rule, s, 1e-3);
    ASSERT_TRUE(fitted.ok());
    v1::EnsembleState state;
    state.mutable_resolved()->set_combination(rule);
    CombinationToState(*fitted, &state);
    auto back = CombinationFromState(state, 2, 2);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->weights, fitted->weights);
    EXPECT_EQ(back->coefficients, fitted->coefficients);
  }
  v1::EnsembleState weighted;
  weighted.mutable_resolved()->set_combination(v1::EnsembleConfig::WEIGHTED);
  weighted.add_weights(0.5);
  EXPECT_FALSE(CombinationFromState(weighted, 2, 2).ok()) << "one weight for two members";
  weighted.add_weights(0.7);
  EXPECT_FALSE(CombinationFromState(weighted, 2, 2).ok()) << "weights summing to 1.2";
  weighted.set_weights(1, NAN);
  EXPECT_FALSE(CombinationFromState(weighted, 2, 2).ok());
  v1::EnsembleState stacking;
  stacking.mutable_resolved()->set_combination(v1::EnsembleConfig::STACKING);
  for (int i = 0; i < 9; ++i) stacking.add_stacking_coefficients(0.1);
  EXPECT_FALSE(CombinationFromState(stacking, 2, 2).ok()) << "9 coefficients where 10 are needed";
  v1::EnsembleState unknown;
  unknown.mutable_resolved()->set_combination(static_cast<v1::EnsembleConfig::Combination>(42));
  EXPECT_FALSE(CombinationFromState(unknown, 2, 2).ok());
  v1::EnsembleState auto_rule;  // COMBINATION_AUTO is resolved at training; a state never holds it
  EXPECT_FALSE(CombinationFromState(auto_rule, 2, 2).ok());
}

}  // namespace
}  // namespace textclf::ensemble
