// A loaded LINEAR model: weights [slots x classes] (feature-major, so one feature's weights for
// every class are contiguous) and a bias per class, in weights.f32, .f16 or .i8 (the config's
// weight_storage). A batch is scored as a sparse-dense product, each text's features extracted
// into per-thread buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/linear/linear_features.h"
#include "core/model/model.h"
#include "core/model/model_files.h"

namespace textclf::linear {

// weights.f32: w then bias, float32. weights.f16: w as IEEE half, then bias float32.
// weights.i8: w as int8 codes, then a float32 scale per class, then bias float32. All little-endian.
const char* WeightsFileName(v1::LinearConfig::WeightStorage storage);

// Weights and bias of a linear model over `slots` features and `classes` classes.
struct LinearWeights {
  size_t slots = 0;
  size_t classes = 0;
  std::vector<float> w;        // slots x classes; empty when held as int8 codes
  std::vector<int8_t> codes;   // slots x classes, INT8 storage: w[f][c] = codes[f][c] * scales[c]
  std::vector<float> scales;   // classes
  std::vector<float> bias;     // classes

  LinearWeights() = default;
  LinearWeights(size_t s, size_t c) : slots(s), classes(c), w(s * c, 0.0f), bias(c, 0.0f) {}
  // logits[c] = bias[c] + sum_f value_f * w[index_f][c]
  void Logits(std::span<const Feature> row, float* logits) const;
  // The file's bytes in `storage`, from float weights.
  std::string Serialize(v1::LinearConfig::WeightStorage storage) const;
  // DATA_LOSS, naming the file, unless `bytes` is exactly such a file for slots x classes.
  // INT8 keeps the codes (a quarter of the memory); FLOAT16 is widened to float32.
  static absl::StatusOr<LinearWeights> Parse(std::string_view bytes, size_t slots, size_t classes,
                                             v1::LinearConfig::WeightStorage storage);
};

class LinearModel final : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest, const ModelFiles& files);

  absl::Status ValidateInput(const ModelInput& input) const override;
  absl::Status Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const override;
  // "logistic regression, float32 weights", "naive Bayes, int8 weights (a scale per class)", ...
  std::string execution() const override;

 private:
  LinearModel(v1::Manifest manifest, LinearWeights weights);

  const v1::LinearState& state_;
  LinearWeights weights_;
};

}  // namespace textclf::linear
