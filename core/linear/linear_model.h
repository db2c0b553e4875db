// A loaded LINEAR model: weights [slots x classes] (feature-major, so one feature's weights for
// every class are contiguous) and a bias per class, in weights.f32. A batch is scored as a
// sparse-dense product, each text's features extracted into per-thread buffers.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/linear/linear_features.h"
#include "core/model/model.h"
#include "core/model/model_files.h"

namespace textclf::linear {

inline constexpr char kWeightsFile[] = "weights.f32";

// Weights and bias of a linear model over `slots` features and `classes` classes.
struct LinearWeights {
  size_t slots = 0;
  size_t classes = 0;
  std::vector<float> w;     // slots x classes
  std::vector<float> bias;  // classes

  LinearWeights() = default;
  LinearWeights(size_t s, size_t c) : slots(s), classes(c), w(s * c, 0.0f), bias(c, 0.0f) {}
  // logits[c] = bias[c] + sum_f value_f * w[index_f][c]
  void Logits(std::span<const Feature> row, float* logits) const;
  // The file's bytes: w then bias, float32 little-endian.
  std::string Serialize() const;
};

class LinearModel final : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest, const ModelFiles& files);

  absl::Status ValidateInput(const ModelInput& input) const override;
  absl::Status Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const override;

 private:
  LinearModel(v1::Manifest manifest, LinearWeights weights);

  const v1::LinearState& state_;
  LinearWeights weights_;
};

}  // namespace textclf::linear
