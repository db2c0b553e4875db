// A Gaussian mixture with one covariance matrix shared by all components ("tied"), fitted by
// EM from given initial responsibilities (X-Class step 4: each document starts in its
// cosine-nearest class, so component c stays class c). Follows scikit-learn's
// GaussianMixture(covariance_type="tied"): reg_covar on the diagonal, convergence when the mean
// log-likelihood changes by less than the tolerance.
#pragma once

#include <Eigen/Dense>

#include "absl/status/statusor.h"

namespace textclf::xclass {

struct GmmOptions {
  int max_iterations = 100;
  double tolerance = 1e-3;
  double reg_covar = 1e-6;
};

struct Gmm {
  Eigen::VectorXd weights;     // components
  Eigen::MatrixXd means;       // components x dims
  Eigen::MatrixXd covariance;  // dims x dims
  Eigen::MatrixXd posteriors;  // samples x components, of the final parameters
  int iterations = 0;
  bool converged = false;
  double mean_log_likelihood = 0;
};

// `x` samples x dims; `responsibilities` samples x components (rows sum to 1).
absl::StatusOr<Gmm> FitTiedGmm(const Eigen::MatrixXd& x, const Eigen::MatrixXd& responsibilities,
                               const GmmOptions& options);

// One-hot responsibilities of `labels` (each in [0, components)).
Eigen::MatrixXd OneHot(const std::vector<int>& labels, int components);

}  // namespace textclf::xclass
