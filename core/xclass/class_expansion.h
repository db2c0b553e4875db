// Class representations by keyword expansion (X-Class step 2). Each class starts from its name's
// static representation; every round it adds the word most similar to its current
// representation among the words nearest to it and not yet used, weighting the k-th keyword 1/k.
// A class stops, dropping the word it just added, once its keywords are no longer exactly the
// words nearest to it that rank highest: one of its keywords is now nearer another class, another
// class's keyword is nearest to it, or an unused word is more similar than its least similar
// keyword (the stopping rule of the authors' code).
#pragma once

#include <string>
#include <vector>

#include <Eigen/Dense>

#include "absl/status/statusor.h"
#include "core/xclass/static_representations.h"

namespace textclf::xclass {

struct ClassExpansion {
  std::vector<std::vector<int>> keywords;  // per class, word indices, the name's words first
  Eigen::MatrixXf representations;         // classes x hidden
};

// The word indices of each class name: its basic tokens (a name may have several words, e.g.
// "sci/tech"). Names with a word that has no static representation are an error naming them.
absl::StatusOr<std::vector<std::vector<int>>> ResolveClassNames(const StaticVocabulary& vocab,
                                                                const std::vector<std::vector<std::string>>& name_words,
                                                                const std::vector<std::string>& class_names,
                                                                int min_word_count);

// `word_vectors` words x hidden; `seeds` per class; at most `max_keywords` per class.
ClassExpansion ExpandClasses(const Eigen::MatrixXf& word_vectors, const std::vector<std::vector<int>>& seeds,
                             int max_keywords);

// The average of `rows` of `vectors` weighted 1, 1/2, 1/3, ... in order.
Eigen::VectorXf HarmonicAverage(const Eigen::MatrixXf& vectors, const std::vector<int>& rows);

// Rows scaled to unit length (zero rows stay zero).
Eigen::MatrixXf NormalizeRows(const Eigen::MatrixXf& m);

}  // namespace textclf::xclass
