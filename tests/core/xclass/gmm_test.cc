#include "core/xclass/gmm.h"

#include <random>

#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

struct Mixture {
  Eigen::MatrixXd x;
  std::vector<int> labels;
};

// Three components 8 standard deviations apart sharing one correlated covariance.
Mixture Sample(int per_component, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  Eigen::MatrixXd means(3, 2);
  means << 0, 0, 8, 0, 4, 8;
  Eigen::Matrix2d cholesky;
  cholesky << 1, 0, 0.6, 0.8;  // covariance [[1, 0.6], [0.6, 1]]
  Mixture m;
  m.x.resize(3 * per_component, 2);
  for (int i = 0; i < 3 * per_component; ++i) {
    const int c = i % 3;
    const Eigen::Vector2d z(normal(rng), normal(rng));
    m.x.row(i) = means.row(c) + (cholesky * z).transpose();
    m.labels.push_back(c);
  }
  return m;
}

TEST(TiedGmm, RecoversWellSeparatedComponentsFromNoisyStarts) {
  const Mixture m = Sample(300, 5);
  // A third of each class's documents start in a wrong class (every third run of three).
  std::vector<int> start = m.labels;
  for (size_t i = 0; i < start.size(); ++i) {
    if ((i / 3) % 3 == 0) start[i] = (start[i] + 1) % 3;
  }
  auto gmm = FitTiedGmm(m.x, OneHot(start, 3), GmmOptions());
  ASSERT_TRUE(gmm.ok()) << gmm.status();
  EXPECT_TRUE(gmm->converged);
  int agree = 0;
  for (Eigen::Index i = 0; i < m.x.rows(); ++i) {
    Eigen::Index arg;
    gmm->posteriors.row(i).maxCoeff(&arg);
    agree += static_cast<int>(arg) == m.labels[static_cast<size_t>(i)] ? 1 : 0;
  }
  EXPECT_GE(agree, 0.99 * m.x.rows());
  // The shared covariance and the weights are the generating ones.
  EXPECT_NEAR(gmm->covariance(0, 1), 0.6, 0.1);
  EXPECT_NEAR(gmm->covariance(0, 0), 1.0, 0.15);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(gmm->weights(c), 1.0 / 3, 0.02);
  EXPECT_TRUE(gmm->posteriors.rowwise().sum().isApprox(Eigen::VectorXd::Ones(m.x.rows()), 1e-9));
}

TEST(TiedGmm, ChecksItsInputs) {
  EXPECT_FALSE(FitTiedGmm(Eigen::MatrixXd::Zero(4, 2), Eigen::MatrixXd::Ones(3, 2), GmmOptions()).ok());
}

}  // namespace
}  // namespace textclf::xclass
