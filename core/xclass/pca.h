// Principal component analysis of document representations (X-Class step 4, before the
// mixture). Two ways to the same components: an exact SVD of the centred data (memory: the data
// in double), or the study's incremental variant, which accumulates mean and covariance over
// batches of rows (memory: hidden x hidden) and diagonalises the covariance.
#pragma once

#include <Eigen/Dense>

#include "absl/status/statusor.h"

namespace textclf::xclass {

struct PcaOptions {
  int components = 64;            // upper bound on the components kept
  double variance_fraction = 0;   // > 0: the fewest components explaining this fraction
  bool incremental = false;
  int batch_size = 1024;          // rows per batch of the incremental variant
};

struct Pca {
  Eigen::VectorXd mean;                // hidden
  Eigen::MatrixXd components;          // hidden x kept, orthonormal columns, by decreasing variance
  Eigen::VectorXd explained_variance;  // per kept component (unbiased, n - 1)
  double explained_fraction = 0;       // of the total variance

  // (rows x hidden) -> (rows x kept)
  Eigen::MatrixXd Transform(const Eigen::MatrixXd& x) const;
};

// `x` rows are samples. Needs at least two rows.
absl::StatusOr<Pca> FitPca(const Eigen::MatrixXd& x, const PcaOptions& options);

}  // namespace textclf::xclass
