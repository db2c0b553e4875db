#include "core/xclass/xclass_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/torch/torch_device_context.h"

namespace textclf::xclass {

absl::StatusOr<std::unique_ptr<Model>> XClassModel::Load(v1::Manifest manifest, const ModelFiles& files) {
  if (!manifest.has_xclass()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest of ", manifest.name(), " has no X-Class state"));
  }
  const v1::XClassState& state = manifest.xclass();
  ASSIGN_OR_RETURN(encoder::CheckpointFiles checkpoint, encoder::CheckpointFromModelFiles(files, state.encoder_dir()));
  ASSIGN_OR_RETURN(auto encoder, encoder::Encoder::Load(checkpoint, "cpu"));
  ASSIGN_OR_RETURN(std::string_view head_bytes, files.Get(state.head_file()));
  ASSIGN_OR_RETURN(LinearHead head, HeadFromSafetensors(head_bytes));
  if (head.classes != manifest.classes_size() || head.hidden != encoder->config().hidden_size) {
    return absl::DataLossError(absl::StrCat("the head of ", manifest.name(), " is ", head.classes, " x ", head.hidden,
                                            " but the model has ", manifest.classes_size(), " classes and a ",
                                            encoder->config().hidden_size, "-wide encoder"));
  }
  // Every request would be refused for these; refusing the version says why once, at load.
  const encoder::EncodingOptions features = FeatureOptions(state.resolved());
  const encoder::BertConfig& config = encoder->config();
  if (features.layer < 0 || features.layer > config.num_hidden_layers ||
      (features.max_length != 0 && (features.max_length < 3 || features.max_length > config.max_position_embeddings))) {
    return absl::DataLossError(absl::StrCat("manifest of ", manifest.name(), " reads layer ", features.layer,
                                            " with sequences of ", features.max_length, " tokens, but its encoder has ",
                                            config.num_hidden_layers, " layers and ", config.max_position_embeddings,
                                            " positions"));
  }
  return std::unique_ptr<Model>(new XClassModel(std::move(manifest), std::move(encoder), std::move(head)));
}

XClassModel::XClassModel(v1::Manifest manifest, std::unique_ptr<encoder::Encoder> encoder, LinearHead head)
    : Model(std::move(manifest)), encoder_(std::move(encoder)), head_(std::move(head)) {
  features_ = FeatureOptions(this->manifest().xclass().resolved());
}

absl::Status XClassModel::ValidateInput(const ModelInput& input) const {
  if (input.tensor != nullptr) return absl::InvalidArgumentError("an X-Class model classifies texts, not tensors");
  return absl::OkStatus();
}

absl::StatusOr<const encoder::Encoder*> XClassModel::EncoderFor(const Device& device) const {
  if (device.kind != Device::Kind::kCuda) return encoder_.get();
  std::lock_guard<std::mutex> lock(replicas_mu_);
  auto& replica = cuda_replicas_[device.index];
  if (replica == nullptr) {
    ASSIGN_OR_RETURN(replica, encoder_->CopyTo(absl::StrCat("cuda:", device.index)));
  }
  return replica.get();
}

absl::Status XClassModel::Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const {
  ASSIGN_OR_RETURN(const encoder::Encoder* encoder, EncoderFor(device));
  std::vector<std::string_view> texts;
  texts.reserve(batch.size());
  for (const ModelInput& input : batch) texts.push_back(input.text);
  encoder::EncodingOptions options = features_;
  if (device.kind == Device::Kind::kCuda) options.device_context = &torch_support::ContextFor(device);
  std::vector<float> features;
  RETURN_IF_ERROR(encoder::MeanPooledFeatures(*encoder, texts, options, &features));
  out->Resize(batch.size(), num_classes());
  ApplyHead(head_, features, batch.size(), out->scores);
  for (size_t i = 0; i < batch.size(); ++i) {
    const float* logits = out->score_row(i);
    float* p = out->probability_row(i);
    float top = logits[0];
    for (size_t c = 1; c < out->cols; ++c) top = std::max(top, logits[c]);
    float total = 0;
    for (size_t c = 0; c < out->cols; ++c) total += p[c] = std::exp(logits[c] - top);
    for (size_t c = 0; c < out->cols; ++c) p[c] /= total;
  }
  return absl::OkStatus();
}

}  // namespace textclf::xclass
