// Adjustments of the word representations before X-Class steps 2-5, for encoders whose
// representations say little about topic on their own, such as small encoders pretrained here:
// - centering: the corpus mean of the contextual word representations is subtracted from every
//   representation. A small encoder's vectors share a large common component that makes every
//   cosine similarity high and the rankings of step 3 noisy.
// - removing the D dominant directions of the centered static vectors ("all-but-the-top", Mu &
//   Viswanath, ICLR 2018): they follow word frequency and position more than meaning.
// - document context: each static vector is blended with its word's document context
//   (StaticVocabulary::document_vectors), both at unit length, with weight `document_context`.
//   A word then resembles the words of the documents it occurs in, as in topic models.
// With every option off, the representations are used as they are (the paper's method).
#pragma once

#include <Eigen/Dense>

#include "core/xclass/static_representations.h"

namespace textclf::xclass {

struct AdjustmentOptions {
  bool center = false;
  int remove_directions = 0;
  double document_context = 0;  // in [0, 1]
};

class RepresentationAdjustment {
 public:
  static RepresentationAdjustment Fit(const StaticVocabulary& vocab, const AdjustmentOptions& options);

  // Centres and projects `rows` (n x hidden) in place; nothing when centering and removal are off.
  void Apply(Eigen::MatrixXf* rows) const;
  // The static vectors steps 2 and 3 use: adjusted, blended with the document context.
  Eigen::MatrixXf Statics(const StaticVocabulary& vocab) const;

  const Eigen::RowVectorXf& mean() const { return mean_; }
  const Eigen::MatrixXf& removed_directions() const { return directions_; }  // hidden x D, orthonormal

 private:
  AdjustmentOptions options_;
  Eigen::RowVectorXf mean_;     // zero when not centering
  Eigen::MatrixXf directions_;  // hidden x D
};

}  // namespace textclf::xclass
