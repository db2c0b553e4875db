#include "core/xclass/gmm.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "absl/strings/str_cat.h"

namespace textclf::xclass {
namespace {

// M-step: weights, means and the shared covariance from responsibilities.
absl::Status MaximizationStep(const Eigen::MatrixXd& x, const Eigen::MatrixXd& resp, double reg_covar, Gmm* gmm) {
  const double n = static_cast<double>(x.rows());
  const Eigen::VectorXd nk = resp.colwise().sum().transpose().array() + 10 * std::numeric_limits<double>::epsilon();
  gmm->means = (resp.transpose() * x).array().colwise() / nk.array();
  Eigen::MatrixXd covariance = x.transpose() * x;
  covariance.noalias() -= gmm->means.transpose() * nk.asDiagonal() * gmm->means;
  covariance /= nk.sum();
  covariance.diagonal().array() += reg_covar;
  gmm->covariance = std::move(covariance);
  gmm->weights = nk / n;
  return absl::OkStatus();
}

// E-step: posteriors and the mean log-likelihood under the current parameters.
absl::StatusOr<double> ExpectationStep(const Eigen::MatrixXd& x, Gmm* gmm) {
  Eigen::LLT<Eigen::MatrixXd> llt(gmm->covariance);
  if (llt.info() != Eigen::Success) {
    return absl::InternalError("the mixture's covariance is not positive definite; the documents may be identical");
  }
  const Eigen::Index n = x.rows();
  const Eigen::Index k = gmm->means.rows();
  const double d = static_cast<double>(x.cols());
  const Eigen::MatrixXd& l = llt.matrixL();
  const double log_det = l.diagonal().array().log().sum();
  Eigen::MatrixXd log_prob(n, k);
  for (Eigen::Index c = 0; c < k; ++c) {
    const Eigen::MatrixXd centred = (x.rowwise() - gmm->means.row(c)).transpose();  // d x n
    const Eigen::MatrixXd y = llt.matrixL().solve(centred);
    log_prob.col(c) = (-0.5 * (d * std::log(2 * std::numbers::pi) + y.colwise().squaredNorm().array()) - log_det +
                       std::log(gmm->weights(c)))
                          .transpose();
  }
  double total = 0;
  gmm->posteriors.resize(n, k);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double top = log_prob.row(i).maxCoeff();
    const double norm = top + std::log((log_prob.row(i).array() - top).exp().sum());
    gmm->posteriors.row(i) = (log_prob.row(i).array() - norm).exp();
    total += norm;
  }
  return total / static_cast<double>(n);
}

}  // namespace

Eigen::MatrixXd OneHot(const std::vector<int>& labels, int components) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(labels.size()), components);
  for (size_t i = 0; i < labels.size(); ++i) out(static_cast<Eigen::Index>(i), labels[i]) = 1.0;
  return out;
}

absl::StatusOr<Gmm> FitTiedGmm(const Eigen::MatrixXd& x, const Eigen::MatrixXd& responsibilities,
                               const GmmOptions& options) {
  if (x.rows() != responsibilities.rows() || responsibilities.cols() < 1) {
    return absl::InvalidArgumentError("the mixture needs one row of responsibilities per sample");
  }
  if (x.rows() < 2) return absl::InvalidArgumentError("the mixture needs at least two samples");
  Gmm gmm;
  if (auto s = MaximizationStep(x, responsibilities, options.reg_covar, &gmm); !s.ok()) return s;
  double previous = -std::numeric_limits<double>::infinity();
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    auto log_likelihood = ExpectationStep(x, &gmm);
    if (!log_likelihood.ok()) return log_likelihood.status();
    if (auto s = MaximizationStep(x, gmm.posteriors, options.reg_covar, &gmm); !s.ok()) return s;
    gmm.iterations = iteration;
    gmm.mean_log_likelihood = *log_likelihood;
    if (std::abs(*log_likelihood - previous) < options.tolerance) {
      gmm.converged = true;
      break;
    }
    previous = *log_likelihood;
  }
  // Posteriors of the final parameters, so that they agree with what the model predicts.
  auto final_ll = ExpectationStep(x, &gmm);
  if (!final_ll.ok()) return final_ll.status();
  return gmm;
}

}  // namespace textclf::xclass
