#include "core/xclass/representation_adjustment.h"

#include <algorithm>

#include "core/xclass/class_expansion.h"

namespace textclf::xclass {

RepresentationAdjustment RepresentationAdjustment::Fit(const StaticVocabulary& vocab, const AdjustmentOptions& options) {
  RepresentationAdjustment out;
  out.options_ = options;
  const Eigen::Index hidden = vocab.vectors.cols();
  out.mean_ = Eigen::RowVectorXf::Zero(hidden);
  out.directions_.resize(hidden, 0);
  if (vocab.size() == 0) return out;
  if (options.center) {
    // A static vector is the mean of its word's occurrences, so the count-weighted mean of the
    // static vectors is the mean over every occurrence in the corpus.
    Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(hidden);
    double total = 0;
    for (size_t w = 0; w < vocab.size(); ++w) {
      const double count = static_cast<double>(vocab.counts[w]);
      sum += count * vocab.vectors.row(static_cast<Eigen::Index>(w)).cast<double>();
      total += count;
    }
    out.mean_ = (sum / total).cast<float>();
  }
  const Eigen::Index d = std::min<Eigen::Index>(options.remove_directions, hidden);
  if (d > 0) {
    // The dominant directions of the static vectors after centering (unweighted, as the
    // all-but-the-top paper does): the top eigenvectors of their covariance.
    const Eigen::MatrixXd centered = (vocab.vectors.rowwise() - out.mean_).cast<double>();
    const Eigen::MatrixXd covariance = centered.transpose() * centered / static_cast<double>(centered.rows());
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
    out.directions_ = solver.eigenvectors().rightCols(d).cast<float>();  // eigenvalues ascend
  }
  return out;
}

void RepresentationAdjustment::Apply(Eigen::MatrixXf* rows) const {
  if (options_.center) rows->rowwise() -= mean_;
  if (directions_.cols() > 0) *rows -= (*rows * directions_) * directions_.transpose();
}

Eigen::MatrixXf RepresentationAdjustment::Statics(const StaticVocabulary& vocab) const {
  Eigen::MatrixXf words = vocab.vectors;
  Apply(&words);
  if (options_.document_context <= 0) return words;
  Eigen::MatrixXf context = vocab.document_vectors;
  Apply(&context);
  const float alpha = static_cast<float>(options_.document_context);
  return (1 - alpha) * NormalizeRows(words) + alpha * NormalizeRows(context);
}

}  // namespace textclf::xclass
