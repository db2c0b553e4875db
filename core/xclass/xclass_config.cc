#include "core/xclass/xclass_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/encoder/encoder_config.h"

namespace textclf::xclass {

absl::StatusOr<v1::XClassConfig> ResolveXClassConfig(const v1::XClassConfig& config) {
  v1::XClassConfig c = config;
  if (!c.encoder_model().empty() && !c.encoder_path().empty()) {
    return absl::InvalidArgumentError(
        "xclass: name the encoder with one of encoder_model (a registry ENCODER_MLM model, see "
        "`textclf train --family encoder_mlm`) or encoder_path (a checkpoint folder on the server with config.json, "
        "model.safetensors and vocab.txt), not both");
  }
  if (PretrainsEncoder(c)) {
    v1::EncoderConfig pretrain = c.pretrain_encoder();
    if (pretrain.hidden_size() == 0) pretrain.set_hidden_size(kPretrainHiddenSize);
    if (pretrain.max_length() == 0) pretrain.set_max_length(kPretrainMaxLength);
    if (pretrain.epochs() == 0) pretrain.set_epochs(kPretrainEpochs);
    if (pretrain.learning_rate() == 0) pretrain.set_learning_rate(kPretrainLearningRate);
    if (pretrain.max_seconds() == 0) pretrain.set_max_seconds(kPretrainMaxSeconds);
    auto resolved = encoder::ResolveEncoderConfig(pretrain);
    if (!resolved.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("xclass.pretrain_", resolved.status().message()));
    }
    *c.mutable_pretrain_encoder() = *resolved;
  } else if (c.has_pretrain_encoder()) {
    return absl::InvalidArgumentError(
        "xclass.pretrain_encoder applies only when no encoder is named: drop it, or drop encoder_model/encoder_path");
  }
  for (auto [field, value] :
       {std::pair{"encoder_version", 1.0 * c.encoder_version()}, std::pair{"layer", 1.0 * c.layer()},
        std::pair{"min_word_count", 1.0 * c.min_word_count()}, std::pair{"max_keywords", 1.0 * c.max_keywords()},
        std::pair{"pca_components", 1.0 * c.pca_components()}, std::pair{"pca_variance", c.pca_variance()},
        std::pair{"pca_batch_size", 1.0 * c.pca_batch_size()}, std::pair{"select_fraction", c.select_fraction()},
        std::pair{"gmm_max_iterations", 1.0 * c.gmm_max_iterations()}, std::pair{"gmm_tolerance", c.gmm_tolerance()},
        std::pair{"epochs", 1.0 * c.epochs()}, std::pair{"learning_rate", c.learning_rate()},
        std::pair{"batch_size", 1.0 * c.batch_size()}, std::pair{"warmup_fraction", c.warmup_fraction()},
        std::pair{"weight_decay", c.weight_decay()}, std::pair{"max_length", 1.0 * c.max_length()},
        std::pair{"encode_batch_tokens", 1.0 * c.encode_batch_tokens()},
        std::pair{"fine_tune_max_length", 1.0 * c.fine_tune_max_length()},
        std::pair{"max_documents", 1.0 * c.max_documents()},
        std::pair{"remove_top_directions", 1.0 * c.remove_top_directions()}}) {
    if (value < 0) return absl::InvalidArgumentError(absl::StrCat("xclass.", field, " must not be negative"));
  }
  if (c.min_word_count() == 0) c.set_min_word_count(5);
  if (c.max_keywords() == 0) c.set_max_keywords(100);
  if (c.pca_components() == 0) c.set_pca_components(64);
  if (c.pca_batch_size() == 0) c.set_pca_batch_size(1024);
  if (c.select_fraction() == 0) c.set_select_fraction(0.5);
  if (c.gmm_max_iterations() == 0) c.set_gmm_max_iterations(100);
  if (c.gmm_tolerance() == 0) c.set_gmm_tolerance(1e-3);
  if (c.batch_size() == 0) c.set_batch_size(16);
  if (c.warmup_fraction() == 0) c.set_warmup_fraction(0.1);
  if (c.weight_decay() == 0) c.set_weight_decay(0.01);
  if (c.encode_batch_tokens() == 0) c.set_encode_batch_tokens(8192);
  if (c.fine_tune_max_length() == 0) c.set_fine_tune_max_length(128);
  if (c.seed() == 0) c.set_seed(42);
  if (c.device().empty()) c.set_device("auto");
  if (c.pca_variance() >= 1) {
    return absl::InvalidArgumentError("xclass.pca_variance is a fraction of the variance: use a value in (0, 1)");
  }
  if (c.document_context() > 1) {
    return absl::InvalidArgumentError(
        "xclass.document_context is the weight of the document context in the static vectors: use a value in [0, 1] "
        "(negative: none)");
  }
  if (c.select_fraction() > 1) return absl::InvalidArgumentError("xclass.select_fraction must be in (0, 1]");
  if (c.warmup_fraction() >= 1) return absl::InvalidArgumentError("xclass.warmup_fraction must be below 1");
  if (c.fine_tune_max_length() < 3) return absl::InvalidArgumentError("xclass.fine_tune_max_length must be at least 3");
  return c;
}

absl::StatusOr<v1::XClassConfig> ResolveForEncoder(v1::XClassConfig c, const EncoderFacts& e) {
  if (c.layer() > e.layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("xclass.layer ", c.layer(), " does not exist: the encoder has layers 1..", e.layers));
  }
  if (c.layer() == 0) c.set_layer(e.layers);
  if (c.max_length() == 0) c.set_max_length(e.max_positions);
  if (c.max_length() < 3 || c.max_length() > e.max_positions) {
    return absl::InvalidArgumentError(absl::StrCat("xclass.max_length must be in [3, ", e.max_positions,
                                                   "] for this encoder, got ", c.max_length()));
  }
  c.set_fine_tune_max_length(std::min(c.fine_tune_max_length(), e.max_positions));
  if (c.final_classifier() == v1::XClassConfig::FINAL_AUTO) {
    c.set_final_classifier(e.on_cuda || e.parameters <= kFineTuneOnCpuMaxParameters ? v1::XClassConfig::FINE_TUNE
                                                                                    : v1::XClassConfig::FROZEN_HEAD);
  }
  if (c.word_representations() == v1::XClassConfig::WORDS_AUTO) {
    c.set_word_representations(e.parameters <= kSmallEncoderMaxParameters ? v1::XClassConfig::ADJUSTED
                                                                         : v1::XClassConfig::AS_ENCODED);
  }
  if (c.word_representations() == v1::XClassConfig::ADJUSTED) {
    if (c.document_context() == 0) c.set_document_context(0.5);
  }
  const bool fine_tune = c.final_classifier() == v1::XClassConfig::FINE_TUNE;
  if (c.epochs() == 0) c.set_epochs(fine_tune ? 3 : 300);
  if (c.learning_rate() == 0) {
    // bert-base-sized encoders fine-tune at BERT's usual 5e-5; small ones learn faster.
    c.set_learning_rate(fine_tune ? (e.parameters > kSmallEncoderMaxParameters ? 5e-5 : 2e-4) : 1e-2);
  }
  return c;
}

}  // namespace textclf::xclass
