// Class-oriented document representations (X-Class step 3): a document is the weighted average
// of the contextual representations of its words, weighted by how strongly each word points at
// the classes. Four rankings of the words (contextual or static representation x "significance",
// the largest softmax of its cosine similarities to the classes, or "relation", its similarity to
// the mean class representation) are fused by the product of the ranks; the word ranked r-th
// (from 1) by the fused score weighs 1/r.
#pragma once

#include <span>
#include <vector>

#include <Eigen/Dense>

namespace textclf::xclass {

// Ranks 0..n-1 of `scores`, 0 for the highest; ties keep their order.
std::vector<int> RankDescending(std::span<const double> scores);

// Weights 1/(r+1) where r ranks the products of (rank+1) across `rankings`, smallest first.
std::vector<double> FusedRankWeights(const std::vector<std::vector<int>>& rankings);

// Per row of `vectors` (n x hidden): the largest softmax of its cosine similarities to
// `unit_classes` rows (k x hidden, unit length).
std::vector<double> SignificanceScores(const Eigen::MatrixXf& vectors, const Eigen::MatrixXf& unit_classes);
// Per row: cosine similarity to `unit_mean_class` (unit length).
std::vector<double> RelationScores(const Eigen::MatrixXf& vectors, const Eigen::VectorXf& unit_mean_class);

struct ClassSpace {
  explicit ClassSpace(const Eigen::MatrixXf& class_representations);
  Eigen::MatrixXf unit_classes;
  Eigen::VectorXf unit_mean;
};

// `contextual` and `statics` (words x hidden) of the document's words that have a static
// representation. `attention` (per word, may be empty) multiplies the weights: the study's
// attention-weighted variant. Returns the document representation (hidden).
Eigen::VectorXf ClassOrientedRepresentation(const Eigen::MatrixXf& contextual, const Eigen::MatrixXf& statics,
                                            const ClassSpace& classes, std::span<const float> attention = {});

}  // namespace textclf::xclass
