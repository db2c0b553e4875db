#include "core/families/job_memory.h"

#include "absl/strings/str_cat.h"
#include "core/cnn/cnn_config.h"
#include "core/encoder/encoder_config.h"
#include "core/model/family_names.h"

namespace textclf {
namespace {

constexpr double kFloat = 4;
// Parameters are held with their gradient and Adam's two moments.
constexpr double kPerParameter = 4 * kFloat;
// Activations of the forward pass are kept for the backward pass, which makes about as many
// again; libtorch's temporaries add some more.
constexpr double kPerActivation = 3 * kFloat;
// BERT's WordPiece vocabulary, the size of the default encoder's embedding table.
constexpr double kBertVocabulary = 30522;

double TextCnnBytes(const v1::TextCnnConfig& config) {
  auto resolved = cnn::ResolveTextCnnConfig(config);
  if (!resolved.ok()) return 0;
  const double batch = resolved->training().batch_size();
  const double tokens = resolved->max_tokens();
  const double embedding = resolved->embedding_dim();
  const double maps = resolved->feature_maps();
  double parameters = resolved->max_vocabulary() * embedding;
  double activations = batch * tokens * embedding;
  for (int width : resolved->filter_widths()) {
    parameters += width * embedding * maps;
    activations += batch * tokens * maps;
  }
  return parameters * kPerParameter + activations * kPerActivation;
}

double ImageCnnBytes(const v1::ImageCnnConfig& config) {
  auto resolved = cnn::ResolveImageCnnConfig(config);
  if (!resolved.ok()) return 0;
  // Height and width may come from the training tensors (bounded by the message size); only a
  // config that names them can be judged here.
  const double pixels = static_cast<double>(resolved->height()) * resolved->width();
  if (pixels <= 0) return 0;
  const double batch = resolved->training().batch_size();
  // Each of the 6n + 2 layers keeps about 16 channels at full resolution (later stages have
  // more channels on fewer pixels), with batch norm and ReLU outputs beside the convolution's.
  const double layers = resolved->depth();
  return batch * pixels * (resolved->channels() + 3.0 * 16 * layers) * kPerActivation;
}

double EncoderBytes(const v1::EncoderConfig& config) {
  auto resolved = encoder::ResolveEncoderConfig(config);
  if (!resolved.ok()) return 0;
  const double hidden = resolved->hidden_size();
  const double layers = resolved->layers();
  const double length = resolved->max_length();
  const double batch = resolved->batch_size();
  const double intermediate = resolved->intermediate_size();
  const double parameters = kBertVocabulary * hidden + layers * (4 * hidden * hidden + 2 * hidden * intermediate);
  // Per layer: the hidden states and projections, the feed-forward's inner states and the
  // attention matrices of every head.
  const double activations =
      batch * layers * length * (8 * hidden + 2 * intermediate + 2 * resolved->heads() * length);
  return parameters * kPerParameter + activations * kPerActivation;
}

}  // namespace

double EstimateJobMemoryBytes(v1::Family family, const v1::ModelConfig& config) {
  switch (family) {
    case v1::TEXT_CNN: return TextCnnBytes(config.text_cnn());
    case v1::IMAGE_CNN: return ImageCnnBytes(config.image_cnn());
    case v1::ENCODER_MLM: return EncoderBytes(config.encoder());
    case v1::XCLASS:
      // Without a named encoder, X-Class pretrains one first.
      if (config.xclass().encoder_path().empty() && config.xclass().encoder_model().empty()) {
        return EncoderBytes(config.xclass().pretrain_encoder());
      }
      return 0;
    default: return 0;
  }
}

absl::Status CheckJobMemory(v1::Family family, const v1::ModelConfig& config, int64_t limit) {
  const double bytes = EstimateJobMemoryBytes(family, config);
  if (limit <= 0 || bytes <= static_cast<double>(limit)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "this ", std::string(FamilyName(family)), " config would need about ", static_cast<int64_t>(bytes / (1 << 20)),
      " MiB to train (parameters with their gradients and optimizer state, and a batch's activations), more than "
      "the server allows a job (max_job_memory_bytes, ", limit / (1 << 20),
      " MiB): lower the batch size, the sequence length or the model's size"));
}

}  // namespace textclf
