// X-Class steps 1-5 on an unlabeled corpus: encode it once (contextual word representations and
// static ones), expand the class names into keyword sets, build class-oriented document
// representations, align them with the classes (PCA + tied-covariance GMM) and select the most
// confident documents per class. No libtorch here: the encoder is run through core/encoder.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "core/encoder/encoder.h"
#include "core/xclass/class_expansion.h"
#include "core/xclass/static_representations.h"
#include "textclf/v1/xclass.pb.h"

namespace textclf::xclass {

// (fraction of this stage done 0..1, message)
using StageProgress = std::function<void(double fraction, std::string_view message)>;

// The corpus as X-Class needs it: per document, the words that have a static representation
// (vocabulary indices) with their contextual representations at the chosen layer, stored as
// IEEE half floats to halve the memory.
struct EncodedCorpus {
  int hidden = 0;
  int layer = 0;
  bool has_attention = false;
  StaticVocabulary vocab;
  std::vector<std::vector<int32_t>> word_ids;
  std::vector<std::vector<uint16_t>> contextual;  // kept words x hidden
  std::vector<std::vector<float>> attention;      // per kept word, when has_attention

  size_t documents() const { return word_ids.size(); }
  // A document's contextual representations as floats (kept words x hidden).
  Eigen::MatrixXf Contextual(size_t document) const;
};

// Runs the encoder over `texts` at resolved.layer(); `with_attention` also keeps the attention
// each word receives (needed by the attention_weights option).
absl::StatusOr<EncodedCorpus> EncodeCorpus(const encoder::Encoder& encoder, std::span<const std::string> texts,
                                           const v1::XClassConfig& resolved, bool with_attention,
                                           const CancellationToken* cancel, const StageProgress& progress);

struct Alignment {
  std::vector<std::vector<std::string>> keywords;  // per class
  Eigen::MatrixXf class_representations;           // classes x hidden
  Eigen::MatrixXf document_representations;        // documents x hidden
  std::vector<int> nearest;       // class whose representation is cosine-nearest (step 3 alone)
  std::vector<int> aligned;       // GMM assignment
  std::vector<double> confidence;  // posterior of the assigned class
  std::vector<size_t> selected;   // documents kept for the final classifier
  int pca_components = 0;
  double pca_explained_variance = 0;
  int gmm_iterations = 0;
  bool gmm_converged = false;
  std::map<std::string, double> seconds;  // per stage: classes, documents, align, select
};

// Steps 2-5. `class_name_words` are each class name's basic tokens.
absl::StatusOr<Alignment> AlignDocuments(const EncodedCorpus& corpus, const std::vector<std::string>& class_names,
                                         const std::vector<std::vector<std::string>>& class_name_words,
                                         const v1::XClassConfig& resolved, const CancellationToken* cancel,
                                         const StageProgress& progress);

}  // namespace textclf::xclass
