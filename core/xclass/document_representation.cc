#include "core/xclass/document_representation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/xclass/class_expansion.h"

namespace textclf::xclass {

std::vector<int> RankDescending(std::span<const double> scores) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<int> rank(scores.size());
  for (size_t r = 0; r < order.size(); ++r) rank[static_cast<size_t>(order[r])] = static_cast<int>(r);
  return rank;
}

std::vector<double> FusedRankWeights(const std::vector<std::vector<int>>& rankings) {
  const size_t n = rankings.empty() ? 0 : rankings[0].size();
  // Products of ranks stay exact in double for up to 2^53, far beyond 4 rankings of 512 words.
  std::vector<double> negated_product(n, -1.0);
  for (size_t i = 0; i < n; ++i) {
    for (const auto& ranking : rankings) negated_product[i] *= ranking[i] + 1.0;
  }
  const std::vector<int> fused = RankDescending(negated_product);  // smallest product ranks 0
  std::vector<double> weights(n);
  for (size_t i = 0; i < n; ++i) weights[i] = 1.0 / (fused[i] + 1.0);
  return weights;
}

std::vector<double> SignificanceScores(const Eigen::MatrixXf& vectors, const Eigen::MatrixXf& unit_classes) {
  const Eigen::MatrixXf similarity = NormalizeRows(vectors) * unit_classes.transpose();
  std::vector<double> out(static_cast<size_t>(vectors.rows()));
  for (Eigen::Index i = 0; i < similarity.rows(); ++i) {
    const double top = similarity.row(i).maxCoeff();
    double total = 0;
    for (Eigen::Index c = 0; c < similarity.cols(); ++c) total += std::exp(similarity(i, c) - top);
    out[static_cast<size_t>(i)] = 1.0 / total;  // softmax of the largest
  }
  return out;
}

std::vector<double> RelationScores(const Eigen::MatrixXf& vectors, const Eigen::VectorXf& unit_mean_class) {
  const Eigen::VectorXf similarity = NormalizeRows(vectors) * unit_mean_class;
  return std::vector<double>(similarity.data(), similarity.data() + similarity.size());
}

ClassSpace::ClassSpace(const Eigen::MatrixXf& class_representations)
    : unit_classes(NormalizeRows(class_representations)) {
  Eigen::VectorXf mean = class_representations.colwise().mean().transpose();
  const float norm = mean.norm();
  unit_mean = norm > 0 ? Eigen::VectorXf(mean / norm) : mean;
}

Eigen::VectorXf ClassOrientedRepresentation(const Eigen::MatrixXf& contextual, const Eigen::MatrixXf& statics,
                                            const ClassSpace& classes, std::span<const float> attention) {
  if (contextual.rows() == 0) return Eigen::VectorXf::Zero(contextual.cols());
  const std::vector<double> s1 = SignificanceScores(contextual, classes.unit_classes);
  const std::vector<double> s2 = RelationScores(contextual, classes.unit_mean);
  const std::vector<double> s3 = SignificanceScores(statics, classes.unit_classes);
  const std::vector<double> s4 = RelationScores(statics, classes.unit_mean);
  std::vector<double> weights =
      FusedRankWeights({RankDescending(s1), RankDescending(s2), RankDescending(s3), RankDescending(s4)});
  if (!attention.empty()) {
    for (size_t i = 0; i < weights.size(); ++i) weights[i] *= attention[i];
  }
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(contextual.cols());
  double total = 0;
  for (Eigen::Index i = 0; i < contextual.rows(); ++i) {
    sum += weights[static_cast<size_t>(i)] * contextual.row(i).transpose().cast<double>();
    total += weights[static_cast<size_t>(i)];
  }
  if (total <= 0) return contextual.colwise().mean().transpose();
  return (sum / total).cast<float>();
}

}  // namespace textclf::xclass
