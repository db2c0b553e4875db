// A loaded TEXT_CNN or IMAGE_CNN model: its tensors (float, or dequantized from packed integers),
// its activation quantizers and temperature; classifies batches on the CPU or a CUDA instance.
// Includes libtorch (through cnn_network.h): include it only from core/cnn .cc files.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cnn/cnn_network.h"
#include "core/cnn/int8_network.h"
#include "core/cnn/vocabulary.h"
#include "core/model/model.h"
#include "core/model/model_files.h"

namespace textclf::cnn {

class CnnModel final : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest, const ModelFiles& files);

  absl::Status ValidateInput(const ModelInput& input) const override;
  absl::Status Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const override;

  // Logits before the temperature, rows x classes (row-major). Inputs must have been validated.
  absl::StatusOr<std::vector<float>> Logits(std::span<const ModelInput> batch, const Device& device) const;
  // The same computed from a ready input tensor (ids or normalised images) on `device`, with
  // another activation hook (calibration); used by quantization.
  torch::Tensor Forward(const torch::Tensor& input, ActivationHook* hook) const;
  // The network input for a batch, on the CPU.
  torch::Tensor EncodeBatch(std::span<const ModelInput> batch) const;

  // Float, int8 kernels (CPU) or simulated int8 (CUDA, and versions the kernels cannot run).
  std::string execution() const override;
  // Whether CPU batches run on int8 kernels (Int8Network); Forward stays the simulation.
  bool runs_int8() const { return int8_ != nullptr; }

  const Architecture& architecture() const { return architecture_; }
  const TensorMap& tensors() const { return cpu_tensors_; }
  const Vocabulary* vocabulary() const { return vocabulary_ ? &*vocabulary_ : nullptr; }
  double temperature() const { return temperature_; }
  bool quantized() const { return manifest().cnn().has_quantization(); }

 private:
  CnnModel(v1::Manifest manifest, Architecture architecture, TensorMap tensors, std::optional<Vocabulary> vocabulary);
  // Builds the int8 network of a quantized version, or records why the simulation serves it.
  void PrepareInt8(const std::vector<ArchiveTensor>& archive);
  const TensorMap& TensorsOn(const torch::Device& device) const;
  // Writes the batch's network input into `host` (resized as needed) and returns its shape.
  std::vector<int64_t> FillInput(std::span<const ModelInput> batch, torch::Tensor* host) const;

  Architecture architecture_;
  TensorMap cpu_tensors_;
  std::optional<Vocabulary> vocabulary_;
  std::unique_ptr<FakeQuantHook> activation_quantizer_;  // quantized activations only
  std::unique_ptr<Int8Network> int8_;                    // CPU execution of quantized versions
  std::string simulated_because_;                        // why a quantized version has no int8_
  double temperature_ = 1.0;
  mutable std::mutex devices_mu_;
  mutable std::map<int, TensorMap> cuda_tensors_;  // by CUDA device index, made on first use
};

// Token ids of a text as TEXT_CNN models read it (at most max_tokens).
void EncodeText(const Vocabulary& vocabulary, const v1::TextCnnConfig& config, std::string_view text,
                std::vector<int64_t>* ids);

// Ids of texts padded to one length: at least the widest filter, at least 1.
torch::Tensor EncodeTexts(const Vocabulary& vocabulary, const v1::TextCnnConfig& config,
                          std::span<const std::string_view> texts);

}  // namespace textclf::cnn
