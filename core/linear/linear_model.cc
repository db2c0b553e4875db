#include "core/linear/linear_model.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/eval/temperature_scaling.h"

namespace textclf::linear {

static_assert(std::endian::native == std::endian::little, "weights.f32 is read as is");

void LinearWeights::Logits(std::span<const Feature> row, float* logits) const {
  std::memcpy(logits, bias.data(), classes * sizeof(float));
  for (const Feature& f : row) {
    const float* column = w.data() + static_cast<size_t>(f.index) * classes;
    for (size_t c = 0; c < classes; ++c) logits[c] += f.value * column[c];
  }
}

std::string LinearWeights::Serialize() const {
  std::string bytes((w.size() + bias.size()) * sizeof(float), '\0');
  std::memcpy(bytes.data(), w.data(), w.size() * sizeof(float));
  std::memcpy(bytes.data() + w.size() * sizeof(float), bias.data(), bias.size() * sizeof(float));
  return bytes;
}

LinearModel::LinearModel(v1::Manifest manifest, LinearWeights weights)
    : Model(std::move(manifest)), state_(this->manifest().linear()), weights_(std::move(weights)) {}

absl::StatusOr<std::unique_ptr<Model>> LinearModel::Load(v1::Manifest manifest, const ModelFiles& files) {
  if (manifest.state_case() != v1::Manifest::kLinear) return absl::DataLossError("a LINEAR manifest without its state");
  const v1::LinearConfig& config = manifest.linear().resolved();
  if (config.hash_bits() < 1 || config.hash_bits() > 24) {
    return absl::DataLossError(absl::StrCat("hash_bits ", config.hash_bits(), " is outside 1..24"));
  }
  const size_t classes = static_cast<size_t>(manifest.classes_size());
  if (classes < 2) return absl::DataLossError("a LINEAR model needs at least two classes");
  if (!(manifest.linear().temperature() > 0)) return absl::DataLossError("the temperature must be positive");
  ASSIGN_OR_RETURN(std::string_view bytes, files.Get(kWeightsFile));
  LinearWeights weights(size_t{1} << config.hash_bits(), classes);
  const size_t expected = (weights.w.size() + weights.bias.size()) * sizeof(float);
  if (bytes.size() != expected) {
    return absl::DataLossError(absl::StrCat(kWeightsFile, " has ", bytes.size(), " bytes; ", expected,
                                            " expected for 2^", config.hash_bits(), " slots x ", classes, " classes"));
  }
  std::memcpy(weights.w.data(), bytes.data(), weights.w.size() * sizeof(float));
  std::memcpy(weights.bias.data(), bytes.data() + weights.w.size() * sizeof(float), classes * sizeof(float));
  return std::unique_ptr<Model>(new LinearModel(std::move(manifest), std::move(weights)));
}

absl::Status LinearModel::ValidateInput(const ModelInput& input) const {
  if (input.tensor != nullptr) return absl::InvalidArgumentError("a LINEAR model classifies texts, not tensors");
  return absl::OkStatus();
}

absl::Status LinearModel::Run(std::span<const ModelInput> batch, const Device&, ScoreMatrix* out) const {
  out->Resize(batch.size(), num_classes());
  thread_local FeatureScratch scratch;
  thread_local std::vector<Feature> row;
  const v1::LinearConfig& config = state_.resolved();
  for (size_t i = 0; i < batch.size(); ++i) {
    ExtractFeatures(batch[i].text, config, &scratch, &row);
    float* scores = out->score_row(i);
    weights_.Logits(row, scores);
    eval::SoftmaxWithTemperature(std::span<const float>(scores, num_classes()), state_.temperature(),
                                 std::span<float>(out->probability_row(i), num_classes()));
  }
  return absl::OkStatus();
}

}  // namespace textclf::linear
