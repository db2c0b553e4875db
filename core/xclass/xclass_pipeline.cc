#include "core/xclass/xclass_pipeline.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/encoder/safetensors.h"
#include "core/encoder/word_encoding.h"
#include "core/xclass/confidence_selection.h"
#include "core/xclass/document_representation.h"
#include "core/xclass/gmm.h"
#include "core/xclass/pca.h"
#include "core/xclass/representation_adjustment.h"

namespace textclf::xclass {
namespace {

std::vector<uint16_t> ToHalf(std::span<const float> values) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = encoder::FloatToHalf(values[i]);
  return out;
}

std::vector<int> RowArgmax(const Eigen::MatrixXd& m) {
  std::vector<int> out(static_cast<size_t>(m.rows()));
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    Eigen::Index arg;
    m.row(i).maxCoeff(&arg);
    out[static_cast<size_t>(i)] = static_cast<int>(arg);
  }
  return out;
}

Eigen::MatrixXd UnitRows(const Eigen::MatrixXd& m) {
  Eigen::MatrixXd out = m;
  for (Eigen::Index i = 0; i < out.rows(); ++i) {
    const double norm = out.row(i).norm();
    if (norm > 0) out.row(i) /= norm;
  }
  return out;
}

}  // namespace

Eigen::MatrixXf EncodedCorpus::Contextual(size_t document) const {
  const auto& half = contextual[document];
  const Eigen::Index rows = static_cast<Eigen::Index>(half.size() / static_cast<size_t>(hidden));
  Eigen::MatrixXf out(rows, hidden);
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (int h = 0; h < hidden; ++h) out(r, h) = encoder::HalfToFloat(half[static_cast<size_t>(r * hidden + h)]);
  }
  return out;
}

absl::StatusOr<EncodedCorpus> EncodeCorpus(const encoder::Encoder& encoder, std::span<const std::string> texts,
                                           const v1::XClassConfig& resolved, bool with_attention,
                                           const CancellationToken* cancel, const StageProgress& progress) {
  EncodedCorpus corpus;
  corpus.hidden = encoder.config().hidden_size;
  corpus.layer = resolved.layer();
  corpus.has_attention = with_attention;
  const size_t n = texts.size();
  std::vector<std::vector<std::string>> words(n);
  std::vector<std::vector<uint16_t>> vectors(n);
  std::vector<std::vector<float>> attention(n);
  StaticRepresentationBuilder builder(corpus.hidden);
  encoder::EncodingOptions options;
  options.layer = resolved.layer();
  options.attention = with_attention;
  options.max_length = resolved.max_length();
  options.batch_tokens = resolved.encode_batch_tokens();
  Stopwatch watch;
  RETURN_IF_ERROR(encoder::EncodeWords(
      encoder, encoder::Views(texts), options,
      [&](size_t i, encoder::EncodedDocument doc) {
        builder.Add(doc.words, doc.vectors);
        words[i] = std::move(doc.words);
        vectors[i] = ToHalf(doc.vectors);
        attention[i] = std::move(doc.attention);
      },
      cancel,
      [&](size_t done) {
        progress(static_cast<double>(done) / std::max<size_t>(1, n),
                 absl::StrCat(done, " of ", n, " documents encoded (", static_cast<int>(done / std::max(1e-9, watch.seconds())),
                              " per second)"));
      }));
  corpus.vocab = builder.Finish(resolved.min_word_count());
  corpus.word_ids.resize(n);
  corpus.contextual.resize(n);
  if (with_attention) corpus.attention.resize(n);
  const size_t hidden = static_cast<size_t>(corpus.hidden);
  for (size_t i = 0; i < n; ++i) {
    for (size_t w = 0; w < words[i].size(); ++w) {
      const int id = corpus.vocab.Find(words[i][w]);
      if (id < 0) continue;
      corpus.word_ids[i].push_back(id);
      corpus.contextual[i].insert(corpus.contextual[i].end(), vectors[i].begin() + static_cast<std::ptrdiff_t>(w * hidden),
                                  vectors[i].begin() + static_cast<std::ptrdiff_t>((w + 1) * hidden));
      if (with_attention) corpus.attention[i].push_back(attention[i][w]);
    }
    vectors[i] = {};
    words[i] = {};
  }
  return corpus;
}

namespace {

// What steps 2-5 share, in the order they fill it in.
struct AlignmentRun {
  AlignmentRun(const EncodedCorpus& corpus, const v1::XClassConfig& resolved, int classes,
               const CancellationToken* cancel, const StageProgress& progress)
      : corpus(corpus), resolved(resolved), classes(classes), n(corpus.documents()), cancel(cancel), progress(progress) {}

  const EncodedCorpus& corpus;
  const v1::XClassConfig& resolved;
  const int classes;
  const size_t n;  // documents
  const CancellationToken* cancel;
  const StageProgress& progress;

  Alignment out;
  std::optional<RepresentationAdjustment> adjustment;
  Eigen::MatrixXf static_vectors;  // adjusted, per vocabulary word
  Eigen::MatrixXd documents;       // class-oriented document representations
  Eigen::MatrixXd class_reps;
};

// Step 2: class names to keyword sets and class representations.
absl::Status ExpandClassNames(AlignmentRun& a, const std::vector<std::string>& class_names,
                              const std::vector<std::vector<std::string>>& class_name_words) {
  const EncodedCorpus& corpus = a.corpus;
  const v1::XClassConfig& resolved = a.resolved;
  Stopwatch watch;
  a.progress(0.0, "expanding the class names into keywords");
  ASSIGN_OR_RETURN(std::vector<std::vector<int>> seeds,
                   ResolveClassNames(corpus.vocab, class_name_words, class_names, resolved.min_word_count()));
  AdjustmentOptions adjustment_options;
  if (resolved.word_representations() == v1::XClassConfig::ADJUSTED) {
    adjustment_options.center = true;
    adjustment_options.remove_directions = resolved.remove_top_directions();
    adjustment_options.document_context = std::max(0.0, resolved.document_context());
  }
  a.adjustment.emplace(RepresentationAdjustment::Fit(corpus.vocab, adjustment_options));
  a.static_vectors = a.adjustment->Statics(corpus.vocab);
  const ClassExpansion expansion = ExpandClasses(a.static_vectors, seeds, resolved.max_keywords());
  a.out.class_representations = expansion.representations;
  for (const auto& keywords : expansion.keywords) {
    std::vector<std::string> names;
    for (int w : keywords) names.push_back(corpus.vocab.words[static_cast<size_t>(w)]);
    a.out.keywords.push_back(std::move(names));
  }
  a.out.seconds["classes"] = watch.seconds();
  return absl::OkStatus();
}

// Step 3: class-oriented document representations, and each document's cosine-nearest class.
absl::Status RepresentDocuments(AlignmentRun& a) {
  const EncodedCorpus& corpus = a.corpus;
  const size_t n = a.n;
  Alignment& out = a.out;
  Stopwatch watch;
  a.progress(0.1, absl::StrCat("class-oriented representations of ", n, " documents"));
  const ClassSpace space(out.class_representations);
  out.document_representations.resize(static_cast<Eigen::Index>(n), corpus.hidden);
  for (size_t i = 0; i < n; ++i) {
    Eigen::MatrixXf contextual = corpus.Contextual(i);
    a.adjustment->Apply(&contextual);
    Eigen::MatrixXf statics(contextual.rows(), corpus.hidden);
    for (size_t w = 0; w < corpus.word_ids[i].size(); ++w) {
      statics.row(static_cast<Eigen::Index>(w)) = a.static_vectors.row(corpus.word_ids[i][w]);
    }
    std::span<const float> attention;
    if (a.resolved.attention_weights()) attention = corpus.attention[i];
    out.document_representations.row(static_cast<Eigen::Index>(i)) =
        ClassOrientedRepresentation(contextual, statics, space, attention).transpose();
    if (i % 1000 == 999) {
      if (a.cancel != nullptr) RETURN_IF_ERROR(a.cancel->Check());
      a.progress(0.1 + 0.5 * static_cast<double>(i + 1) / n, absl::StrCat(i + 1, " of ", n, " document representations"));
    }
  }
  a.documents = out.document_representations.cast<double>();
  a.class_reps = out.class_representations.cast<double>();
  out.nearest = RowArgmax(UnitRows(a.documents) * UnitRows(a.class_reps).transpose());
  out.seconds["documents"] = watch.seconds();
  return absl::OkStatus();
}

// Step 4: PCA, then a tied-covariance Gaussian mixture with one component per class.
absl::Status AlignWithMixture(AlignmentRun& a) {
  const v1::XClassConfig& resolved = a.resolved;
  Alignment& out = a.out;
  Stopwatch watch;
  a.progress(0.6, "PCA and Gaussian mixture");
  PcaOptions pca_options;
  pca_options.components = resolved.pca_components();
  pca_options.variance_fraction = resolved.pca_variance();
  pca_options.incremental = resolved.incremental_pca();
  pca_options.batch_size = resolved.pca_batch_size();
  ASSIGN_OR_RETURN(Pca pca, FitPca(a.documents, pca_options));
  const Eigen::MatrixXd reduced = pca.Transform(a.documents);
  const Eigen::MatrixXd reduced_classes = pca.Transform(a.class_reps);
  out.pca_components = static_cast<int>(pca.components.cols());
  out.pca_explained_variance = pca.explained_fraction;
  // Each document starts in its cosine-nearest class in the reduced space (as the authors do),
  // which ties mixture component c to class c.
  const std::vector<int> initial = RowArgmax(UnitRows(reduced) * UnitRows(reduced_classes).transpose());
  GmmOptions gmm_options;
  gmm_options.max_iterations = resolved.gmm_max_iterations();
  gmm_options.tolerance = resolved.gmm_tolerance();
  ASSIGN_OR_RETURN(Gmm gmm, FitTiedGmm(reduced, OneHot(initial, a.classes), gmm_options));
  out.gmm_iterations = gmm.iterations;
  out.gmm_converged = gmm.converged;
  out.aligned = RowArgmax(gmm.posteriors);
  out.confidence.resize(a.n);
  for (size_t i = 0; i < a.n; ++i) out.confidence[i] = gmm.posteriors(static_cast<Eigen::Index>(i), out.aligned[i]);
  out.seconds["align"] = watch.seconds();
  return absl::OkStatus();
}

// Step 5: the most confident documents of each class.
void SelectConfidentDocuments(AlignmentRun& a) {
  Alignment& out = a.out;
  Stopwatch watch;
  SelectionOptions selection;
  selection.fraction = a.resolved.select_fraction();
  selection.per_class_thresholds = a.resolved.per_class_thresholds();
  out.selected = SelectConfident(out.aligned, out.confidence, a.classes, selection);
  out.seconds["select"] = watch.seconds();
  a.progress(1.0, absl::StrCat(out.selected.size(), " confident documents selected"));
}

}  // namespace

absl::StatusOr<Alignment> AlignDocuments(const EncodedCorpus& corpus, const std::vector<std::string>& class_names,
                                         const std::vector<std::vector<std::string>>& class_name_words,
                                         const v1::XClassConfig& resolved, const CancellationToken* cancel,
                                         const StageProgress& progress) {
  if (corpus.documents() < 2) return absl::InvalidArgumentError("X-Class needs at least two documents");
  if (resolved.attention_weights() && !corpus.has_attention) {
    return absl::InternalError("attention_weights needs a corpus encoded with attention");
  }
  AlignmentRun a(corpus, resolved, static_cast<int>(class_names.size()), cancel, progress);
  RETURN_IF_ERROR(ExpandClassNames(a, class_names, class_name_words));
  if (cancel != nullptr) RETURN_IF_ERROR(cancel->Check());
  RETURN_IF_ERROR(RepresentDocuments(a));
  RETURN_IF_ERROR(AlignWithMixture(a));
  SelectConfidentDocuments(a);
  return std::move(a.out);
}

}  // namespace textclf::xclass
