#include "core/ensemble/combiner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace textclf::ensemble {
namespace {

constexpr int kWeightIterations = 500;
constexpr double kWeightStep = 0.5;
constexpr int kStackingIterations = 300;
constexpr int kMaxHalvings = 40;
constexpr double kTinyMixture = 1e-12;

double LogProbability(float p) { return std::log(std::max(p, kMinProbability)); }

// Softmax of `z` into `p` (both `n` long), stable against large logits.
void Softmax(const double* z, size_t n, double* p) {
  const double top = *std::max_element(z, z + n);
  double sum = 0;
  for (size_t c = 0; c < n; ++c) sum += (p[c] = std::exp(z[c] - top));
  for (size_t c = 0; c < n; ++c) p[c] /= sum;
}

// Stacking's features of one row: each member's log-probabilities, member-major.
void StackingFeatures(const MemberScores& s, size_t row, double* x) {
  for (size_t m = 0; m < s.members; ++m) {
    const float* p = s.probabilities[m].data() + row * s.classes;
    for (size_t c = 0; c < s.classes; ++c) x[m * s.classes + c] = LogProbability(p[c]);
  }
}

// Mean log loss (plus the penalty) of coefficients `w` on precomputed features; the gradient
// into `grad` when it is not null.
double StackingLoss(const std::vector<double>& x, const std::vector<int>& labels, size_t classes, size_t features,
                    const std::vector<double>& w, double l2, std::vector<double>* grad) {
  const size_t width = features + 1;
  const size_t n = labels.size();
  std::vector<double> z(classes), p(classes);
  if (grad != nullptr) grad->assign(w.size(), 0.0);
  double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    const double* xi = x.data() + i * features;
    for (size_t c = 0; c < classes; ++c) {
      const double* wc = w.data() + c * width;
      double v = wc[features];
      for (size_t j = 0; j < features; ++j) v += wc[j] * xi[j];
      z[c] = v;
    }
    Softmax(z.data(), classes, p.data());
    const size_t y = static_cast<size_t>(labels[i]);
    loss -= std::log(std::max(p[y], 1e-300));
    if (grad == nullptr) continue;
    for (size_t c = 0; c < classes; ++c) {
      const double d = p[c] - (c == y ? 1.0 : 0.0);
      double* gc = grad->data() + c * width;
      for (size_t j = 0; j < features; ++j) gc[j] += d * xi[j];
      gc[features] += d;
    }
  }
  loss /= static_cast<double>(n);
  double penalty = 0;
  for (size_t c = 0; c < classes; ++c) {
    for (size_t j = 0; j < features; ++j) penalty += w[c * width + j] * w[c * width + j];
  }
  loss += 0.5 * l2 * penalty;
  if (grad != nullptr) {
    for (size_t k = 0; k < w.size(); ++k) {
      (*grad)[k] /= static_cast<double>(n);
      if (k % width != features) (*grad)[k] += l2 * w[k];
    }
  }
  return loss;
}

absl::Status Cancelled(const CancellationToken* cancel) {
  return cancel != nullptr ? cancel->Check() : absl::OkStatus();
}

absl::StatusOr<std::vector<double>> FitWeights(const MemberScores& s, const CancellationToken* cancel) {
  const size_t n = s.rows();
  // Each member's probability of the true class, the only thing the mixture's loss depends on.
  std::vector<double> truth(s.members * n);
  for (size_t m = 0; m < s.members; ++m) {
    for (size_t i = 0; i < n; ++i) truth[m * n + i] = s.probabilities[m][i * s.classes + s.labels[i]];
  }
  std::vector<double> w(s.members, 1.0 / static_cast<double>(s.members)), grad(s.members);
  for (int it = 0; it < kWeightIterations; ++it) {
    if (it % 50 == 0) RETURN_IF_ERROR(Cancelled(cancel));
    std::fill(grad.begin(), grad.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      double mix = 0;
      for (size_t m = 0; m < s.members; ++m) mix += w[m] * truth[m * n + i];
      mix = std::max(mix, kTinyMixture);
      for (size_t m = 0; m < s.members; ++m) grad[m] -= truth[m * n + i] / mix;
    }
    // Exponentiated gradient: multiplicative steps keep the weights on the simplex. The gradient
    // is shifted by its mean (which normalizing undoes anyway) to keep the exponents small.
    double mean = 0;
    for (double& g : grad) mean += (g /= static_cast<double>(n));
    mean /= static_cast<double>(s.members);
    double sum = 0;
    for (size_t m = 0; m < s.members; ++m) sum += (w[m] *= std::exp(std::clamp(-kWeightStep * (grad[m] - mean), -20.0, 20.0)));
    for (double& v : w) v /= sum;
  }
  return w;
}

absl::StatusOr<std::vector<double>> FitStacking(const MemberScores& s, double l2, const CancellationToken* cancel) {
  const size_t features = s.members * s.classes;
  const size_t width = features + 1;
  std::vector<double> x(s.rows() * features);
  for (size_t i = 0; i < s.rows(); ++i) StackingFeatures(s, i, x.data() + i * features);
  // The start is the members' geometric mean, a good combination already; descent improves on it.
  std::vector<double> w(s.classes * width, 0.0);
  for (size_t c = 0; c < s.classes; ++c) {
    for (size_t m = 0; m < s.members; ++m) w[c * width + m * s.classes + c] = 1.0 / static_cast<double>(s.members);
  }
  std::vector<double> grad, trial(w.size());
  double loss = StackingLoss(x, s.labels, s.classes, features, w, l2, &grad);
  double step = 1.0;
  for (int it = 0; it < kStackingIterations; ++it) {
    RETURN_IF_ERROR(Cancelled(cancel));
    double norm2 = 0;
    for (double g : grad) norm2 += g * g;
    if (norm2 < 1e-14) break;
    // Backtracking (Armijo): the step halves until the loss falls by enough, then tries to grow.
    bool moved = false;
    for (int h = 0; h < kMaxHalvings; ++h, step *= 0.5) {
      for (size_t k = 0; k < w.size(); ++k) trial[k] = w[k] - step * grad[k];
      const double trial_loss = StackingLoss(x, s.labels, s.classes, features, trial, l2, nullptr);
      if (trial_loss <= loss - 0.5 * step * norm2) {
        moved = true;
        break;
      }
    }
    if (!moved) break;
    w.swap(trial);
    loss = StackingLoss(x, s.labels, s.classes, features, w, l2, &grad);
    step *= 2;
  }
  return w;
}

}  // namespace

void Combination::Combine(std::span<const float* const> member_rows, float* scores, float* probabilities) const {
  if (rule != v1::EnsembleConfig::STACKING) {
    double sum = 0;
    for (size_t c = 0; c < classes; ++c) {
      double v = 0;
      for (size_t m = 0; m < members; ++m) v += weights[m] * member_rows[m][c];
      probabilities[c] = static_cast<float>(v);
      sum += v;
    }
    // The members' rows each sum to 1 up to rounding; the mean is made to as well.
    for (size_t c = 0; c < classes; ++c) {
      if (sum > 0) probabilities[c] = static_cast<float>(probabilities[c] / sum);
      scores[c] = probabilities[c];
    }
    return;
  }
  const size_t features = members * classes;
  const size_t width = features + 1;
  thread_local std::vector<double> z, p;
  z.resize(classes);
  p.resize(classes);
  for (size_t c = 0; c < classes; ++c) {
    const double* wc = coefficients.data() + c * width;
    double v = wc[features];
    for (size_t m = 0; m < members; ++m) {
      for (size_t k = 0; k < classes; ++k) v += wc[m * classes + k] * LogProbability(member_rows[m][k]);
    }
    z[c] = v;
  }
  Softmax(z.data(), classes, p.data());
  for (size_t c = 0; c < classes; ++c) {
    scores[c] = static_cast<float>(z[c]);
    probabilities[c] = static_cast<float>(p[c]);
  }
}

absl::StatusOr<Combination> CombinationFromState(const v1::EnsembleState& state, size_t members, size_t classes) {
  Combination out;
  out.rule = state.resolved().combination();
  out.members = members;
  out.classes = classes;
  auto finite = [](const auto& values) {
    return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
  };
  switch (out.rule) {
    case v1::EnsembleConfig::AVERAGE:
      out.weights.assign(members, 1.0 / static_cast<double>(members));
      return out;
    case v1::EnsembleConfig::WEIGHTED: {
      double sum = 0;
      for (double v : state.weights()) sum += v;
      if (static_cast<size_t>(state.weights_size()) != members || !finite(state.weights()) ||
          std::any_of(state.weights().begin(), state.weights().end(), [](double v) { return v < 0; }) ||
          std::abs(sum - 1.0) > 1e-6) {
        return absl::InvalidArgumentError(absl::StrCat("the ensemble's state has ", state.weights_size(),
                                                       " weights; a WEIGHTED ensemble of ", members,
                                                       " members needs as many, non-negative, summing to 1"));
      }
      out.weights.assign(state.weights().begin(), state.weights().end());
      return out;
    }
    case v1::EnsembleConfig::STACKING: {
      const size_t expected = classes * (members * classes + 1);
      if (members * classes > kMaxStackingFeatures ||
          static_cast<size_t>(state.stacking_coefficients_size()) != expected ||
          !finite(state.stacking_coefficients())) {
        return absl::InvalidArgumentError(absl::StrCat("the ensemble's state has ", state.stacking_coefficients_size(),
                                                       " finite stacking coefficients; ", members, " members of ",
                                                       classes, " classes need ", expected));
      }
      out.coefficients.assign(state.stacking_coefficients().begin(), state.stacking_coefficients().end());
      return out;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("the ensemble's state names combination ", static_cast<int>(out.rule),
                       ", which this server does not know; use AVERAGE, WEIGHTED or STACKING"));
  }
}

void CombinationToState(const Combination& combination, v1::EnsembleState* state) {
  state->clear_weights();
  state->clear_stacking_coefficients();
  if (combination.rule == v1::EnsembleConfig::WEIGHTED) {
    for (double w : combination.weights) state->add_weights(w);
  }
  for (double w : combination.coefficients) state->add_stacking_coefficients(w);
}

absl::StatusOr<Combination> FitCombination(v1::EnsembleConfig::Combination rule, const MemberScores& scores,
                                           double l2, const CancellationToken* cancel) {
  if (scores.members < 2 || scores.classes < 2 || scores.probabilities.size() != scores.members) {
    return absl::InvalidArgumentError("an ensemble combines at least two members of at least two classes");
  }
  for (const auto& p : scores.probabilities) {
    if (p.size() != scores.rows() * scores.classes) {
      return absl::InvalidArgumentError("every member must score every calibration example");
    }
  }
  for (int y : scores.labels) {
    if (y < 0 || static_cast<size_t>(y) >= scores.classes) {
      return absl::InvalidArgumentError(absl::StrCat("calibration label ", y, " is not a class index"));
    }
  }
  Combination out;
  out.rule = rule;
  out.members = scores.members;
  out.classes = scores.classes;
  if (rule == v1::EnsembleConfig::AVERAGE) {
    out.weights.assign(scores.members, 1.0 / static_cast<double>(scores.members));
    return out;
  }
  if (scores.rows() == 0) {
    return absl::InvalidArgumentError(
        "fitting WEIGHTED or STACKING needs labelled examples: send a CALIBRATION split (or TRAIN examples) that "
        "the members did not train on");
  }
  if (rule == v1::EnsembleConfig::WEIGHTED) {
    ASSIGN_OR_RETURN(out.weights, FitWeights(scores, cancel));
    return out;
  }
  if (rule != v1::EnsembleConfig::STACKING) {
    return absl::InvalidArgumentError(absl::StrCat("unknown combination ", static_cast<int>(rule),
                                                   "; use AVERAGE, WEIGHTED or STACKING"));
  }
  if (scores.members * scores.classes > kMaxStackingFeatures) {
    return absl::InvalidArgumentError(absl::StrCat("STACKING ", scores.members, " members of ", scores.classes,
                                                   " classes would fit ", scores.members * scores.classes,
                                                   " coefficients per class, more than ", kMaxStackingFeatures,
                                                   "; use WEIGHTED"));
  }
  if (!std::isfinite(l2) || l2 < 0) return absl::InvalidArgumentError("stacking_l2 must be finite and >= 0");
  ASSIGN_OR_RETURN(out.coefficients, FitStacking(scores, l2, cancel));
  return out;
}

absl::StatusOr<double> ChooseStackingL2(const MemberScores& scores, const CancellationToken* cancel) {
  constexpr int kFolds = 3;
  const double grid[] = {1e-4, 1e-3, 1e-2, 1e-1};
  if (scores.rows() < static_cast<size_t>(kFolds)) return 1e-3;
  auto subset = [&](int fold, bool held_out) {
    MemberScores part;
    part.members = scores.members;
    part.classes = scores.classes;
    part.probabilities.resize(scores.members);
    for (size_t i = 0; i < scores.rows(); ++i) {
      if ((static_cast<int>(i % kFolds) == fold) != held_out) continue;
      part.labels.push_back(scores.labels[i]);
      for (size_t m = 0; m < scores.members; ++m) {
        const float* row = scores.probabilities[m].data() + i * scores.classes;
        part.probabilities[m].insert(part.probabilities[m].end(), row, row + scores.classes);
      }
    }
    return part;
  };
  double best_l2 = grid[0], best_loss = std::numeric_limits<double>::infinity();
  for (double l2 : grid) {
    double loss = 0;
    for (int fold = 0; fold < kFolds; ++fold) {
      const MemberScores train = subset(fold, false), held = subset(fold, true);
      ASSIGN_OR_RETURN(Combination c, FitCombination(v1::EnsembleConfig::STACKING, train, l2, cancel));
      loss += MeasureFit(held, -1, &c).log_loss * static_cast<double>(held.rows());
    }
    if (loss < best_loss) {
      best_loss = loss;
      best_l2 = l2;
    }
  }
  return best_l2;
}

FitQuality MeasureFit(const MemberScores& scores, int member, const Combination* combination) {
  FitQuality q;
  const size_t n = scores.rows();
  if (n == 0) return q;
  std::vector<float> row_scores(scores.classes), row_probabilities(scores.classes);
  std::vector<const float*> rows(scores.members);
  for (size_t i = 0; i < n; ++i) {
    const float* p = nullptr;
    if (member >= 0) {
      p = scores.probabilities[static_cast<size_t>(member)].data() + i * scores.classes;
    } else {
      for (size_t m = 0; m < scores.members; ++m) rows[m] = scores.probabilities[m].data() + i * scores.classes;
      combination->Combine(rows, row_scores.data(), row_probabilities.data());
      p = row_probabilities.data();
    }
    const size_t y = static_cast<size_t>(scores.labels[i]);
    q.log_loss -= std::log(std::max(p[y], kMinProbability));
    if (std::max_element(p, p + scores.classes) - p == static_cast<std::ptrdiff_t>(y)) q.accuracy += 1;
  }
  q.log_loss /= static_cast<double>(n);
  q.accuracy /= static_cast<double>(n);
  return q;
}

}  // namespace textclf::ensemble
