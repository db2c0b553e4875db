#include "core/xclass/pca.h"

#include <random>

#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

// 400 samples in 6 dimensions with variances about 25, 9, 4, 1, 0.25, 0.01 along rotated axes.
Eigen::MatrixXd Data() {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0, 1);
  const Eigen::VectorXd scales = (Eigen::VectorXd(6) << 5, 3, 2, 1, 0.5, 0.1).finished();
  Eigen::MatrixXd z(400, 6);
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    for (Eigen::Index j = 0; j < 6; ++j) z(i, j) = normal(rng) * scales(j);
  }
  Eigen::MatrixXd random(6, 6);
  for (Eigen::Index i = 0; i < 36; ++i) random.data()[i] = normal(rng);
  const Eigen::MatrixXd rotation = Eigen::HouseholderQR<Eigen::MatrixXd>(random).householderQ();
  return (z * rotation.transpose()).rowwise() + Eigen::RowVectorXd::LinSpaced(6, -3, 3);
}

// Principal axes and variances from Eigen's SVD of the centred data: the reference.
void ExpectMatchesSvd(const Pca& pca, const Eigen::MatrixXd& x) {
  const Eigen::MatrixXd centred = x.rowwise() - x.colwise().mean();
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinV);
  const Eigen::VectorXd variances = svd.singularValues().array().square() / (x.rows() - 1);
  for (Eigen::Index k = 0; k < pca.components.cols(); ++k) {
    EXPECT_NEAR(pca.explained_variance(k), variances(k), 1e-8 * variances(0)) << "component " << k;
    // Same axis up to its sign.
    EXPECT_NEAR(std::abs(pca.components.col(k).dot(svd.matrixV().col(k))), 1.0, 1e-8) << "component " << k;
  }
  EXPECT_TRUE(pca.mean.isApprox(x.colwise().mean().transpose(), 1e-12));
}

TEST(Pca, ExactAndIncrementalAgreeWithEigenSvd) {
  const Eigen::MatrixXd x = Data();
  for (bool incremental : {false, true}) {
    SCOPED_TRACE(incremental ? "incremental" : "exact");
    PcaOptions options;
    options.components = 4;
    options.incremental = incremental;
    options.batch_size = 37;  // batches that do not divide the rows
    auto pca = FitPca(x, options);
    ASSERT_TRUE(pca.ok()) << pca.status();
    ASSERT_EQ(pca->components.cols(), 4);
    ExpectMatchesSvd(*pca, x);
    // Projections are the centred data on the axes.
    const Eigen::MatrixXd projected = pca->Transform(x);
    EXPECT_TRUE(projected.isApprox((x.rowwise() - x.colwise().mean()) * pca->components, 1e-12));
  }
}

TEST(Pca, KeepsTheFewestComponentsExplainingTheVarianceFraction) {
  const Eigen::MatrixXd x = Data();
  PcaOptions options;
  options.components = 6;
  options.variance_fraction = 0.95;
  auto pca = FitPca(x, options);
  ASSERT_TRUE(pca.ok());
  // Variances ~25, 9, 4, 1, ...: the first three explain ~97%, the first two ~87%.
  EXPECT_EQ(pca->components.cols(), 3);
  EXPECT_GE(pca->explained_fraction, 0.95);
  options.variance_fraction = 0;
  options.components = 2;
  EXPECT_EQ(FitPca(x, options)->components.cols(), 2);
}

TEST(Pca, NeedsTwoSamples) {
  EXPECT_FALSE(FitPca(Eigen::MatrixXd::Ones(1, 3), PcaOptions()).ok());
}

}  // namespace
}  // namespace textclf::xclass
