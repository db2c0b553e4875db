// A quantized CNN executed on int8 kernels: libtorch's quantized convolutions (oneDNN on x86,
// QNNPACK elsewhere, see quantized_engine.h) with the model's per-channel weight codes, int8
// activations on the calibrated grids, ReLU and requantization fused into each convolution.
// It computes what the simulated network (Architecture::Forward with a FakeQuantHook) computes,
// up to rounding at grid boundaries; the simulation stays the reference and runs on CUDA.
// Includes libtorch: include it only from core/cnn .cc files.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cnn/cnn_network.h"

namespace textclf::cnn {

class Int8Network {
 public:
  // `tensors` are the model's dequantized, batch-norm-folded tensors and `weight_scales` the
  // stored scale(s) of each packed tensor, so that every weight is requantized to exactly its
  // stored code (sub-8-bit codes run as int8). FAILED_PRECONDITION, saying why, for a model
  // these kernels cannot run as the simulation does: activations other than 8 bits, a site
  // without a calibrated range (versions quantized before int8 execution existed), a convolution
  // with float weights, or a libtorch without quantized engines.
  static absl::StatusOr<std::unique_ptr<Int8Network>> Build(const Architecture& architecture, const TensorMap& tensors,
                                                           const std::map<std::string, std::vector<float>>& weight_scales,
                                                           const v1::QuantizationInfo& quantization);
  ~Int8Network();

  // Logits [batch, classes] from a CPU input: word ids for TEXT_CNN, normalised images for
  // IMAGE_CNN (as Architecture::Forward takes them).
  torch::Tensor Forward(const torch::Tensor& input) const;

  const std::string& engine() const { return engine_; }

 private:
  struct Grid {
    double scale = 0;
    int64_t zero_point = 0;
  };
  struct Conv {
    c10::IValue packed;  // the engine's prepacked weights and bias
    bool relu = false;
    Grid out;            // requantization of the output
  };
  struct Block {
    Conv conv1, conv2;
    std::unique_ptr<Conv> downsample;
    Grid out;  // the sum after ReLU
  };
  class Builder;

  Int8Network() = default;
  torch::Tensor Run(const Conv& conv, const torch::Tensor& x) const;
  torch::Tensor ResNetForward(const torch::Tensor& images) const;
  torch::Tensor TextCnnForward(const torch::Tensor& ids) const;

  Architecture architecture_;
  std::string engine_;
  Grid input_;                          // the first layer's input
  Conv stem_;                           // IMAGE_CNN conv1
  std::vector<Block> blocks_;           // IMAGE_CNN
  torch::Tensor embedding_codes_;       // TEXT_CNN: the table on the input grid, uint8 [words, dim]
  std::vector<Conv> text_convs_;        // TEXT_CNN, one per filter width
  std::unique_ptr<FakeQuantHook> fc_input_;  // the classifier's input grid (the simulation's own)
  torch::Tensor fc_weight_, fc_bias_;   // the classifier stays float on its rounded input: [classes x 64..600]
};

}  // namespace textclf::cnn
