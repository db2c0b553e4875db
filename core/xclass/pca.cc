#include "core/xclass/pca.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace textclf::xclass {
namespace {

// Keeps the leading components: `values` (variances) sorted decreasing, `vectors` their columns.
Pca Select(const Eigen::VectorXd& mean, const Eigen::VectorXd& values, const Eigen::MatrixXd& vectors,
           const PcaOptions& options) {
  const double total = std::max(values.sum(), 1e-300);
  Eigen::Index kept = std::min<Eigen::Index>(options.components, values.size());
  if (options.variance_fraction > 0) {
    double cumulative = 0;
    Eigen::Index needed = values.size();
    for (Eigen::Index i = 0; i < values.size(); ++i) {
      cumulative += values(i);
      if (cumulative / total >= options.variance_fraction) {
        needed = i + 1;
        break;
      }
    }
    kept = std::min(kept, needed);
  }
  kept = std::max<Eigen::Index>(kept, 1);
  Pca pca;
  pca.mean = mean;
  pca.components = vectors.leftCols(kept);
  pca.explained_variance = values.head(kept);
  pca.explained_fraction = pca.explained_variance.sum() / total;
  return pca;
}

Pca FitBySvd(const Eigen::MatrixXd& x, const PcaOptions& options) {
  const Eigen::VectorXd mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - mean.transpose();
  Eigen::BDCSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinV);
  const Eigen::VectorXd values = svd.singularValues().array().square() / static_cast<double>(x.rows() - 1);
  return Select(mean, values, svd.matrixV(), options);
}

// Chan et al.'s pairwise update merges each batch's mean and scatter into the running ones, so
// the result equals the one-pass covariance without holding the data.
Pca FitIncremental(const Eigen::MatrixXd& x, const PcaOptions& options) {
  const Eigen::Index d = x.cols();
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
  Eigen::MatrixXd scatter = Eigen::MatrixXd::Zero(d, d);
  double n = 0;
  const Eigen::Index batch = std::max(1, options.batch_size);
  for (Eigen::Index begin = 0; begin < x.rows(); begin += batch) {
    const Eigen::Index rows = std::min(batch, x.rows() - begin);
    const auto block = x.middleRows(begin, rows);
    const Eigen::VectorXd batch_mean = block.colwise().mean().transpose();
    const Eigen::MatrixXd centred = block.rowwise() - batch_mean.transpose();
    const Eigen::VectorXd delta = batch_mean - mean;
    const double m = static_cast<double>(rows);
    scatter.noalias() += centred.transpose() * centred;
    scatter.noalias() += (n * m / (n + m)) * delta * delta.transpose();
    mean += delta * (m / (n + m));
    n += m;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(scatter / (n - 1));
  // The solver sorts eigenvalues increasing; PCA wants them decreasing.
  const Eigen::VectorXd values = solver.eigenvalues().reverse().cwiseMax(0.0);
  const Eigen::MatrixXd vectors = solver.eigenvectors().rowwise().reverse();
  return Select(mean, values, vectors, options);
}

}  // namespace

Eigen::MatrixXd Pca::Transform(const Eigen::MatrixXd& x) const {
  return (x.rowwise() - mean.transpose()) * components;
}

absl::StatusOr<Pca> FitPca(const Eigen::MatrixXd& x, const PcaOptions& options) {
  if (x.rows() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("PCA needs at least two documents, got ", x.rows()));
  }
  if (options.components < 1) return absl::InvalidArgumentError("PCA needs at least one component");
  return options.incremental ? FitIncremental(x, options) : FitBySvd(x, options);
}

}  // namespace textclf::xclass
