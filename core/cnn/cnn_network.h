// The two CNN architectures as functions of a tensor map: the parameters and buffers by their
// PyTorch names, so that one forward pass serves training, inference, calibration and imported
// checkpoints alike, and batch-norm folding is an edit of the map. Includes libtorch: include it
// only from core/cnn .cc files.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/cnn/tensor_archive.h"
#include "textclf/v1/cnn.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

using TensorMap = std::map<std::string, torch::Tensor>;

// Called wherever an int8 network holds integers: the input of every convolution and linear
// layer, named after the layer ("conv1", "layer2.0.conv1", "convs", "fc"), and in a ResNet both
// operands of each residual addition ("layer1.0.residual", "layer2.0.shortcut") and the pooling's
// input ("avgpool"); returns what the network computes on. Calibration observes here, quantized
// models round here.
class ActivationHook {
 public:
  virtual ~ActivationHook() = default;
  virtual torch::Tensor At(const std::string& site, const torch::Tensor& x) = 0;
};

// Rounds activations to the integer grid of their ActivationQuantizer (fake quantization).
class FakeQuantHook final : public ActivationHook {
 public:
  FakeQuantHook(const std::vector<v1::ActivationQuantizer>& sites, int bits);
  torch::Tensor At(const std::string& site, const torch::Tensor& x) override;

 private:
  struct Grid {
    double scale;
    int64_t min, max;
  };
  std::map<std::string, Grid> grids_;
};

struct ForwardOptions {
  bool training = false;           // batch statistics and dropout
  ActivationHook* hook = nullptr;
  at::Generator* generator = nullptr;  // for dropout masks (CPU); null: no dropout
};

// Which network a tensor map belongs to, with its resolved configuration.
struct Architecture {
  v1::Family family = v1::FAMILY_UNSPECIFIED;
  v1::TextCnnConfig text;   // TEXT_CNN
  v1::ImageCnnConfig image; // IMAGE_CNN

  // Logits [batch, classes]. TEXT_CNN takes word ids [batch, tokens] (int64), IMAGE_CNN
  // normalised images [batch, channels, height, width].
  torch::Tensor Forward(const TensorMap& p, const torch::Tensor& input, const ForwardOptions& o) const;

  // Every tensor a model with `classes` classes has, with its shape: batch norms unfolded, or
  // folded into the convolutions (which then have biases).
  std::map<std::string, std::vector<int64_t>> ExpectedShapes(int64_t classes, int64_t vocabulary, bool folded) const;

  // Fresh parameters, deterministic for a seed.
  TensorMap Initialize(int64_t classes, int64_t vocabulary, uint64_t seed) const;

  // Weight tensors that quantization rounds, in forward order.
  struct Weight {
    std::string name;
    bool first_or_last = false;  // the first layer computing on the input, or the classifier
  };
  std::vector<Weight> QuantizableWeights() const;
};

// TEXT_CNN pooling, shared by the float and int8 networks: the word count of each row of ids
// (at least the widest filter), and the maximum of ReLU feature maps [batch, maps, windows] over
// the windows of `width` words that lie inside each text, so that padding never scores.
torch::Tensor TextLengths(const v1::TextCnnConfig& c, const torch::Tensor& ids);
torch::Tensor MaxOverTextWindows(const torch::Tensor& maps, const torch::Tensor& lengths, int64_t width);

// Checks names and shapes against Architecture::ExpectedShapes; the message names missing,
// unexpected and misshapen tensors.
absl::Status CheckTensors(const TensorMap& p, const Architecture& a, int64_t classes, int64_t vocabulary, bool folded);

// Folds every batch norm into the convolution before it (inference statistics): the convolution
// gets scale-adjusted weights and a bias, the batch norm entries go.
void FoldBatchNorm(const Architecture& a, TensorMap* p);

// Deep copies (for keeping the best epoch's weights), on the CPU.
TensorMap CloneToCpu(const TensorMap& p);
TensorMap MoveTo(const TensorMap& p, const torch::Device& device);

// Float archive tensors and back.
std::vector<ArchiveTensor> ToArchive(const TensorMap& p);
absl::StatusOr<TensorMap> FromArchive(const std::vector<ArchiveTensor>& tensors);
torch::Tensor ToTorch(const std::vector<int64_t>& shape, const std::vector<float>& values);
std::vector<float> ToVector(const torch::Tensor& t);

// Whether training updates the tensor (running statistics it does not).
bool IsTrainable(const std::string& name);

}  // namespace textclf::cnn
