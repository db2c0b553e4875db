#include "core/xclass/class_expansion.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace textclf::xclass {

Eigen::MatrixXf NormalizeRows(const Eigen::MatrixXf& m) {
  Eigen::MatrixXf out = m;
  for (Eigen::Index i = 0; i < out.rows(); ++i) {
    const float norm = out.row(i).norm();
    if (norm > 0) out.row(i) /= norm;
  }
  return out;
}

Eigen::VectorXf HarmonicAverage(const Eigen::MatrixXf& vectors, const std::vector<int>& rows) {
  Eigen::VectorXf sum = Eigen::VectorXf::Zero(vectors.cols());
  double weights = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    const float w = 1.f / static_cast<float>(k + 1);
    sum += w * vectors.row(rows[k]).transpose();
    weights += w;
  }
  return weights > 0 ? Eigen::VectorXf(sum / static_cast<float>(weights)) : sum;
}

absl::StatusOr<std::vector<std::vector<int>>> ResolveClassNames(const StaticVocabulary& vocab,
                                                                const std::vector<std::vector<std::string>>& name_words,
                                                                const std::vector<std::string>& class_names,
                                                                int min_word_count) {
  std::vector<std::vector<int>> seeds(name_words.size());
  std::vector<std::string> missing;
  for (size_t c = 0; c < name_words.size(); ++c) {
    bool ok = !name_words[c].empty();
    for (const std::string& word : name_words[c]) {
      const int index = vocab.Find(word);
      if (index < 0) {
        ok = false;
      } else if (std::find(seeds[c].begin(), seeds[c].end(), index) == seeds[c].end()) {
        seeds[c].push_back(index);
      }
    }
    if (!ok) missing.push_back(absl::StrCat("\"", class_names[c], "\""));
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "class names not found among the words the documents use at least ", min_word_count,
        " times: ", absl::StrJoin(missing, ", "),
        "; name each class with a word of the documents (lower-cased), or lower xclass.min_word_count"));
  }
  for (size_t a = 0; a < seeds.size(); ++a) {
    for (size_t b = a + 1; b < seeds.size(); ++b) {
      if (seeds[a] == seeds[b]) {
        return absl::InvalidArgumentError(absl::StrCat("classes \"", class_names[a], "\" and \"", class_names[b],
                                                       "\" have the same words; give each class a distinct name"));
      }
    }
  }
  return seeds;
}

ClassExpansion ExpandClasses(const Eigen::MatrixXf& word_vectors, const std::vector<std::vector<int>>& seeds,
                             int max_keywords) {
  const int classes = static_cast<int>(seeds.size());
  const Eigen::Index words = word_vectors.rows();
  const Eigen::MatrixXf unit_words = NormalizeRows(word_vectors);
  ClassExpansion out;
  out.keywords = seeds;
  std::vector<bool> used(static_cast<size_t>(words), false);
  for (const auto& s : seeds) {
    for (int w : s) used[static_cast<size_t>(w)] = true;
  }
  std::vector<bool> finished(static_cast<size_t>(classes), false);
  std::vector<int> nearest(static_cast<size_t>(words));
  std::vector<float> best(static_cast<size_t>(words));
  for (int round = 1; round < max_keywords; ++round) {
    // Similarities to the representations as they stood at the start of the round.
    Eigen::MatrixXf reps(classes, word_vectors.cols());
    for (int c = 0; c < classes; ++c) reps.row(c) = HarmonicAverage(word_vectors, out.keywords[static_cast<size_t>(c)]).transpose();
    const Eigen::MatrixXf similarity = unit_words * NormalizeRows(reps).transpose();  // words x classes
    for (Eigen::Index i = 0; i < words; ++i) {
      Eigen::Index arg;
      best[static_cast<size_t>(i)] = similarity.row(i).maxCoeff(&arg);
      nearest[static_cast<size_t>(i)] = static_cast<int>(arg);
    }
    for (int c = 0; c < classes; ++c) {
      if (finished[static_cast<size_t>(c)]) continue;
      std::vector<int>& keywords = out.keywords[static_cast<size_t>(c)];
      const std::unordered_set<int> own(keywords.begin(), keywords.end());
      float highest = -std::numeric_limits<float>::infinity();
      int candidate = -1;
      float lowest_own = std::numeric_limits<float>::infinity();
      bool stop = false;
      for (Eigen::Index i = 0; i < words && !stop; ++i) {
        const int w = static_cast<int>(i);
        const bool mine = own.contains(w);
        if (nearest[static_cast<size_t>(i)] == c) {
          if (!used[static_cast<size_t>(i)]) {
            if (best[static_cast<size_t>(i)] > highest) {
              highest = best[static_cast<size_t>(i)];
              candidate = w;
            }
          } else if (!mine) {
            stop = true;  // another class's keyword is nearest to this class
          } else {
            lowest_own = std::min(lowest_own, best[static_cast<size_t>(i)]);
          }
        } else if (mine) {
          stop = true;  // one of this class's keywords is nearer another class
        }
      }
      if (lowest_own < highest) stop = true;
      if (!stop && candidate < 0) {  // every word nearest this class is a keyword already
        finished[static_cast<size_t>(c)] = true;
        continue;
      }
      if (stop) {
        finished[static_cast<size_t>(c)] = true;
        // The last keyword added made the set inconsistent: drop it, never the name itself.
        if (keywords.size() > seeds[static_cast<size_t>(c)].size()) keywords.pop_back();
        continue;
      }
      keywords.push_back(candidate);
      used[static_cast<size_t>(candidate)] = true;
    }
    if (std::all_of(finished.begin(), finished.end(), [](bool f) { return f; })) break;
  }
  out.representations.resize(classes, word_vectors.cols());
  for (int c = 0; c < classes; ++c) {
    out.representations.row(c) = HarmonicAverage(word_vectors, out.keywords[static_cast<size_t>(c)]).transpose();
  }
  return out;
}

}  // namespace textclf::xclass
