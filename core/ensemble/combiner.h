// How an ensemble turns its members' calibrated probabilities into its own: a (weighted) mean,
// or stacking, a multinomial logistic regression over the members' log-probabilities. Fitting
// and applying live together so that the bench and the server combine with the same code.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "textclf/v1/model.pb.h"

namespace textclf::ensemble {

// Probabilities below this count as this in stacking's log-probabilities: a member that is sure
// and wrong costs a bounded amount.
inline constexpr float kMinProbability = 1e-7f;

// More stacking coefficients than this per class (members x classes) are refused: stacking then
// needs far more calibration examples than anyone sends, and WEIGHTED is the rule to use.
inline constexpr size_t kMaxStackingFeatures = 512;

struct Combination {
  v1::EnsembleConfig::Combination rule = v1::EnsembleConfig::AVERAGE;
  size_t members = 0;
  size_t classes = 0;
  std::vector<double> weights;       // AVERAGE and WEIGHTED: one per member, summing to 1
  std::vector<double> coefficients;  // STACKING: classes x (members * classes + 1), bias last

  // One row: `member_rows[m]` is member m's probabilities in the ensemble's class order.
  // Averages score with their probabilities; stacking scores with its logits.
  void Combine(std::span<const float* const> member_rows, float* scores, float* probabilities) const;
};

// The combination a manifest's state records; INVALID_ARGUMENT when its sizes or values do not fit
// `members` and `classes` (a hand-edited or foreign manifest).
absl::StatusOr<Combination> CombinationFromState(const v1::EnsembleState& state, size_t members, size_t classes);
// The other way: writes weights and coefficients into `state`.
void CombinationToState(const Combination& combination, v1::EnsembleState* state);

// Examples scored by every member: probabilities[m] is n x classes, row-major, in the ensemble's
// class order; labels are class indices.
struct MemberScores {
  size_t members = 0;
  size_t classes = 0;
  std::vector<std::vector<float>> probabilities;
  std::vector<int> labels;
  size_t rows() const { return labels.size(); }
};

// AVERAGE takes no fitting. WEIGHTED minimizes the mean log loss of the mixture over the simplex
// (exponentiated gradient; the loss is convex in the weights). STACKING minimizes the mean log
// loss plus l2/2 |W|^2 (bias free) by gradient descent with a backtracking line search, starting
// from the geometric mean of the members. INVALID_ARGUMENT when `scores` cannot fit `rule`.
absl::StatusOr<Combination> FitCombination(v1::EnsembleConfig::Combination rule, const MemberScores& scores,
                                           double l2, const CancellationToken* cancel = nullptr);

// STACKING's L2 penalty chosen among 1e-4, 1e-3, 1e-2 and 1e-1 by 3-fold cross-validation of
// the log loss on `scores` (rows go to folds in turn): a stacker has members x classes + 1
// coefficients per class, and calibration splits are small.
absl::StatusOr<double> ChooseStackingL2(const MemberScores& scores, const CancellationToken* cancel = nullptr);

// Mean log loss and accuracy of one member's rows (member >= 0) or of `combination` (member < 0)
// on `scores`.
struct FitQuality {
  double log_loss = 0;
  double accuracy = 0;
};
FitQuality MeasureFit(const MemberScores& scores, int member, const Combination* combination);

}  // namespace textclf::ensemble
