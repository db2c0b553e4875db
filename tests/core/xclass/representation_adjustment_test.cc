#include "core/xclass/representation_adjustment.h"

#include <gtest/gtest.h>

#include "core/xclass/class_expansion.h"

namespace textclf::xclass {
namespace {

StaticVocabulary Vocabulary(const Eigen::MatrixXf& vectors, const Eigen::MatrixXf& documents,
                            std::vector<int64_t> counts) {
  StaticVocabulary vocab;
  for (Eigen::Index i = 0; i < vectors.rows(); ++i) {
    vocab.words.push_back("w" + std::to_string(i));
    vocab.index[vocab.words.back()] = static_cast<int>(i);
  }
  vocab.counts = std::move(counts);
  vocab.vectors = vectors;
  vocab.document_vectors = documents;
  return vocab;
}

int Nearest(const Eigen::MatrixXf& vectors, int word) {
  const Eigen::MatrixXf unit = NormalizeRows(vectors);
  Eigen::VectorXf similarity = unit * unit.row(word).transpose();
  similarity(word) = -2;
  Eigen::Index best;
  similarity.maxCoeff(&best);
  return static_cast<int>(best);
}

TEST(RepresentationAdjustment, WithEverythingOffTheVectorsAreUnchanged) {
  const Eigen::MatrixXf vectors = Eigen::MatrixXf::Random(5, 3);
  const StaticVocabulary vocab = Vocabulary(vectors, Eigen::MatrixXf::Random(5, 3), {5, 4, 3, 2, 1});
  const RepresentationAdjustment none = RepresentationAdjustment::Fit(vocab, {});
  EXPECT_TRUE(none.Statics(vocab).isApprox(vectors));
  Eigen::MatrixXf rows = vectors;
  none.Apply(&rows);
  EXPECT_TRUE(rows.isApprox(vectors));
  EXPECT_TRUE(none.mean().isZero());
}

TEST(RepresentationAdjustment, CentersOnTheMeanOfAllOccurrences) {
  Eigen::MatrixXf vectors(2, 2);
  vectors << 1, 10,  //
      4, 10;
  const StaticVocabulary vocab = Vocabulary(vectors, vectors, {2, 1});
  AdjustmentOptions options;
  options.center = true;
  const RepresentationAdjustment centered = RepresentationAdjustment::Fit(vocab, options);
  // Three occurrences: 1, 1, 4 -> 2; the shared 10 is removed entirely.
  EXPECT_FLOAT_EQ(centered.mean()(0), 2.f);
  EXPECT_FLOAT_EQ(centered.mean()(1), 10.f);
  Eigen::MatrixXf rows = vectors;
  centered.Apply(&rows);
  EXPECT_FLOAT_EQ(rows(0, 0), -1.f);
  EXPECT_FLOAT_EQ(rows(1, 0), 2.f);
  EXPECT_NEAR(rows.col(1).norm(), 0.f, 1e-6);
}

TEST(RepresentationAdjustment, RemovesTheDominantDirectionsOfTheStaticVectors) {
  // Large spread along (1,1,0)/sqrt2, small and uncorrelated along z, none along (1,-1,0).
  Eigen::MatrixXf vectors(4, 3);
  vectors << 10, 10, 1,  //
      -10, -10, 1,       //
      5, 5, -1,          //
      -5, -5, -1;
  const StaticVocabulary vocab = Vocabulary(vectors, vectors, {1, 1, 1, 1});
  AdjustmentOptions options;
  options.center = true;
  options.remove_directions = 1;
  const RepresentationAdjustment adjustment = RepresentationAdjustment::Fit(vocab, options);
  ASSERT_EQ(adjustment.removed_directions().cols(), 1);
  const Eigen::Vector3f direction = adjustment.removed_directions().col(0);
  EXPECT_NEAR(std::abs(direction.dot(Eigen::Vector3f(1, 1, 0).normalized())), 1.f, 1e-5);
  Eigen::MatrixXf rows = vectors;
  adjustment.Apply(&rows);
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    EXPECT_NEAR(rows(i, 0), 0.f, 1e-4);
    EXPECT_NEAR(rows(i, 1), 0.f, 1e-4);
    EXPECT_NEAR(std::abs(rows(i, 2)), 1.f, 1e-4) << "the minor direction stays";
  }
  options.remove_directions = 9;  // more than the hidden size: capped
  EXPECT_EQ(RepresentationAdjustment::Fit(vocab, options).removed_directions().cols(), 3);
}

TEST(RepresentationAdjustment, DocumentContextMovesAWordToTheWordsOfItsDocuments) {
  // Word representations: "sports" (0) looks like the source tag "reuters" (1) locally, but it
  // occurs in the documents of "goal" (2), as "reuters" occurs in those of "vote" (3).
  Eigen::MatrixXf words(4, 2);
  words << 1, 0.1f,  //
      1, 0.12f,      //
      0.3f, 1,       //
      -0.3f, 1;
  Eigen::MatrixXf documents(4, 2);
  documents << 1, 1,  //
      -1, 1,          //
      1, 1.1f,        //
      -1, 1.1f;
  const StaticVocabulary vocab = Vocabulary(words, documents, {1, 1, 1, 1});
  EXPECT_EQ(Nearest(RepresentationAdjustment::Fit(vocab, {}).Statics(vocab), 0), 1);
  AdjustmentOptions options;
  options.center = true;
  options.document_context = 1;
  const Eigen::MatrixXf context = RepresentationAdjustment::Fit(vocab, options).Statics(vocab);
  EXPECT_EQ(Nearest(context, 0), 2);
  EXPECT_NEAR(context.row(0).norm(), 1.f, 1e-5) << "blended at unit length";
  options.document_context = 0.5;
  const Eigen::MatrixXf half = RepresentationAdjustment::Fit(vocab, options).Statics(vocab);
  EXPECT_LT(half.row(0).norm(), 1.f) << "the two sides point different ways";
}

}  // namespace
}  // namespace textclf::xclass
