#include "core/cnn/int8_network.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/cnn/activation_range.h"
#include "core/cnn/cnn_config.h"
#include "core/cnn/quantized_engine.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

constexpr int kActivationBits = 8;
// Signed sites use the unsigned int8 type around a zero point of 128: the engines' convolutions
// take quint8 inputs. The simulation's signed grid is [-127, 127]; -128 is one extra step below.
constexpr int64_t kSignedZeroPoint = 128;

// The quantized operators, looked up once. They are called boxed (through IValue stacks) so that
// no engine's packed-parameter class appears here: the schemas are the same in libtorch 1.13 and 2.x.
struct Ops {
  c10::OperatorHandle conv2d_prepack, conv1d_prepack, conv2d, conv2d_relu, conv1d_relu, add_relu;
};

const Ops& QuantizedOps() {
  static const Ops ops = [] {
    auto& d = c10::Dispatcher::singleton();
    return Ops{d.findSchemaOrThrow("quantized::conv2d_prepack", ""), d.findSchemaOrThrow("quantized::conv1d_prepack", ""),
               d.findSchemaOrThrow("quantized::conv2d", "new"),      d.findSchemaOrThrow("quantized::conv2d_relu", "new"),
               d.findSchemaOrThrow("quantized::conv1d_relu", ""),     d.findSchemaOrThrow("quantized::add_relu", "")};
  }();
  return ops;
}

c10::IValue CallBoxed(const c10::OperatorHandle& op, std::vector<c10::IValue> stack) {
  op.callBoxed(&stack);
  return std::move(stack.at(0));
}

}  // namespace

class Int8Network::Builder {
 public:
  Builder(const Architecture& a, const TensorMap& tensors, const std::map<std::string, std::vector<float>>& scales,
          const v1::QuantizationInfo& q)
      : a_(a), tensors_(tensors), scales_(scales) {
    for (const v1::ActivationQuantizer& s : q.activations()) sites_[s.site()] = &s;
  }

  absl::StatusOr<Grid> GridOf(const std::string& site) const {
    auto it = sites_.find(site);
    if (it == sites_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("no calibrated range for ", site,
                                                        " (quantized before int8 execution: quantize the float model again)"));
    }
    const v1::ActivationQuantizer& s = *it->second;
    // Below this the engines' requantization scales (input x weight / output) leave float range.
    constexpr float kSmallestThreshold = 1e-12f;
    if (!(s.threshold() >= kSmallestThreshold)) {
      return absl::FailedPreconditionError(absl::StrCat("calibration saw only zeros (or nearly) at ", site));
    }
    const int levels = ActivationLevels(kActivationBits, s.is_unsigned());
    return Grid{static_cast<double>(s.threshold()) / levels, s.is_unsigned() ? 0 : kSignedZeroPoint};
  }

  // The weight as int8 codes with its stored per-channel (or per-tensor) scales, prepacked.
  absl::StatusOr<c10::IValue> Pack(const std::string& layer, bool one_d, int64_t stride, int64_t padding) const {
    const torch::Tensor& w = tensors_.at(layer + ".weight");
    auto stored = scales_.find(layer + ".weight");
    if (stored == scales_.end() || stored->second.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(layer, " has float weights"));
    }
    const int64_t channels = w.size(0);
    const auto& s = stored->second;
    if (s.size() != 1 && static_cast<int64_t>(s.size()) != channels) {
      return absl::FailedPreconditionError(absl::StrCat(layer, " has ", s.size(), " scales for ", channels, " channels"));
    }
    std::vector<double> per_channel(static_cast<size_t>(channels));
    for (size_t c = 0; c < per_channel.size(); ++c) {
      const float v = s[s.size() == 1 ? 0 : c];
      per_channel[c] = v > 0 ? static_cast<double>(v) : 1.0;  // an all-zero channel: its codes are 0 at any scale
    }
    const torch::Tensor scales = torch::tensor(per_channel, torch::kDouble);
    torch::Tensor codes = at::quantize_per_channel(w, scales, torch::zeros({channels}, torch::kLong), 0, torch::kQInt8);
    // The stored codes come back exactly (|code| <= 127); anything else would serve other weights.
    const double drift = (codes.dequantize() - w).abs().max().item<double>();
    if (drift > 1e-5 * std::max(1.0, w.abs().max().item<double>())) {
      return absl::FailedPreconditionError(absl::StrCat(layer, " weights are not on their stored grid (off by ", drift, ")"));
    }
    auto bias = tensors_.find(layer + ".bias");
    c10::optional<torch::Tensor> b;
    if (bias != tensors_.end()) b = bias->second;
    const Ops& ops = QuantizedOps();
    return CallBoxed(one_d ? ops.conv1d_prepack : ops.conv2d_prepack,
                     {codes, b, std::vector<int64_t>(one_d ? 1 : 2, stride), std::vector<int64_t>(one_d ? 1 : 2, padding),
                      std::vector<int64_t>(one_d ? 1 : 2, 1), int64_t{1}});
  }

  absl::StatusOr<Conv> MakeConv(const std::string& layer, int64_t stride, int64_t padding, bool relu,
                                const std::string& output_site) const {
    Conv conv;
    ASSIGN_OR_RETURN(conv.packed, Pack(layer, /*one_d=*/false, stride, padding));
    conv.relu = relu;
    ASSIGN_OR_RETURN(conv.out, GridOf(output_site));
    return conv;
  }

  absl::Status BuildResNet(Int8Network& net) const {
    ASSIGN_OR_RETURN(net.input_, GridOf("conv1"));
    const int n = BlocksPerStage(a_.image.depth());
    auto block_input = [&](int s, int b) { return absl::StrCat("layer", s, ".", b, ".conv1"); };
    ASSIGN_OR_RETURN(net.stem_, MakeConv("conv1", 1, 1, true, block_input(1, 0)));
    for (int s = 1; s <= 3; ++s) {
      for (int b = 0; b < n; ++b) {
        const std::string prefix = absl::StrCat("layer", s, ".", b);
        const int64_t stride = s > 1 && b == 0 ? 2 : 1;
        Block block;
        ASSIGN_OR_RETURN(block.conv1, MakeConv(prefix + ".conv1", stride, 1, true, prefix + ".conv2"));
        ASSIGN_OR_RETURN(block.conv2, MakeConv(prefix + ".conv2", 1, 1, false, prefix + ".residual"));
        if (s > 1 && b == 0) {
          ASSIGN_OR_RETURN(Conv ds, MakeConv(prefix + ".downsample.0", stride, 0, false, prefix + ".shortcut"));
          block.downsample = std::make_unique<Conv>(std::move(ds));
        }
        const bool last = s == 3 && b == n - 1;
        ASSIGN_OR_RETURN(block.out, GridOf(last ? "avgpool" : b + 1 < n ? block_input(s, b + 1) : block_input(s + 1, 0)));
        net.blocks_.push_back(std::move(block));
      }
    }
    return absl::OkStatus();
  }

  absl::Status BuildTextCnn(Int8Network& net) const {
    ASSIGN_OR_RETURN(net.input_, GridOf("convs"));
    // The feature maps are requantized straight onto the classifier's input grid: rounding is
    // monotonic, so the maximum of rounded maps is the rounded maximum the simulation computes.
    ASSIGN_OR_RETURN(Grid maps, GridOf("fc"));
    // The table is rounded onto the input grid once; a lookup then gathers int8 rows.
    net.embedding_codes_ =
        at::quantize_per_tensor(tensors_.at("embedding.weight"), net.input_.scale, net.input_.zero_point, torch::kQUInt8)
            .int_repr()
            .contiguous();
    for (int i = 0; i < a_.text.filter_widths_size(); ++i) {
      Conv conv;
      ASSIGN_OR_RETURN(conv.packed, Pack(absl::StrCat("convs.", i), /*one_d=*/true, 1, 0));
      conv.relu = true;
      conv.out = maps;
      net.text_convs_.push_back(std::move(conv));
    }
    return absl::OkStatus();
  }

 private:
  const Architecture& a_;
  const TensorMap& tensors_;
  const std::map<std::string, std::vector<float>>& scales_;
  std::map<std::string, const v1::ActivationQuantizer*> sites_;
};

Int8Network::~Int8Network() = default;

absl::StatusOr<std::unique_ptr<Int8Network>> Int8Network::Build(
    const Architecture& architecture, const TensorMap& tensors,
    const std::map<std::string, std::vector<float>>& weight_scales, const v1::QuantizationInfo& quantization) {
  if (quantization.activation_bits() != kActivationBits) {
    return absl::FailedPreconditionError(
        absl::StrCat("int8 kernels need 8-bit activations; this version has ", quantization.activation_bits()));
  }
  const std::string& engine = QuantizedEngine();
  if (engine.empty()) return absl::FailedPreconditionError("this libtorch has no quantized engine");
  std::unique_ptr<Int8Network> net(new Int8Network());
  net->architecture_ = architecture;
  net->engine_ = engine;
  const Builder builder(architecture, tensors, weight_scales, quantization);
  try {
    torch::InferenceMode inference;
    if (architecture.family == v1::TEXT_CNN) {
      RETURN_IF_ERROR(builder.BuildTextCnn(*net));
    } else {
      RETURN_IF_ERROR(builder.BuildResNet(*net));
    }
    net->fc_input_ = std::make_unique<FakeQuantHook>(
        std::vector<v1::ActivationQuantizer>(quantization.activations().begin(), quantization.activations().end()),
        kActivationBits);
    net->fc_weight_ = tensors.at("fc.weight");
    net->fc_bias_ = tensors.at("fc.bias");
    // One pass now: engines finish packing on first use (QNNPACK packs for the input scale it
    // sees), which must not happen under concurrent requests.
    torch::Tensor probe;
    if (architecture.family == v1::TEXT_CNN) {
      int widest = 1;
      for (int w : architecture.text.filter_widths()) widest = std::max(widest, w);
      probe = torch::zeros({1, widest}, torch::kLong);
    } else {
      const auto& c = architecture.image;
      probe = torch::zeros({1, c.channels(), c.height(), c.width()}, torch::kFloat);
    }
    net->Forward(probe);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(absl::StrCat("the ", engine, " int8 kernels refused the model: ", e.what()));
  }
  return net;
}

torch::Tensor Int8Network::Run(const Conv& conv, const torch::Tensor& x) const {
  const Ops& ops = QuantizedOps();
  const bool one_d = x.dim() == 3;
  const c10::OperatorHandle& op = one_d ? ops.conv1d_relu : conv.relu ? ops.conv2d_relu : ops.conv2d;
  return CallBoxed(op, {x, conv.packed, conv.out.scale, conv.out.zero_point}).toTensor();
}

torch::Tensor Int8Network::Forward(const torch::Tensor& input) const {
  return architecture_.family == v1::TEXT_CNN ? TextCnnForward(input) : ResNetForward(input);
}

namespace {

// Quantized activations as bytes, positions x channels with channels contiguous (how the engines
// lay out their outputs, "channels last"); copies only when the layout is another.
torch::Tensor ChannelsLastCodes(const torch::Tensor& q) {
  const int64_t channels = q.size(1);
  torch::Tensor rows = q.dim() == 4 ? q.permute({0, 2, 3, 1}) : q.permute({0, 2, 1});
  if (!rows.is_contiguous()) rows = rows.contiguous();
  return rows.view({q.size(0), -1, channels});  // [batch, positions, channels]
}

// The maximum of each feature map over the windows inside its text (as MaxOverTextWindows),
// dequantized into out[row * out_stride + channel]: on the codes, since rounding is monotonic.
void MaxOverTextWindowsInt8(const torch::Tensor& maps, const int64_t* lengths, int64_t width, float* out,
                            int64_t out_stride) {
  const torch::Tensor codes = ChannelsLastCodes(maps);
  const int64_t batch = codes.size(0), windows = codes.size(1), channels = codes.size(2);
  const auto* data = reinterpret_cast<const uint8_t*>(codes.data_ptr());
  const double scale = maps.q_scale();
  const int64_t zero = maps.q_zero_point();
  std::vector<uint8_t> best(static_cast<size_t>(channels));
  for (int64_t b = 0; b < batch; ++b) {
    // ReLU outputs never fall below the zero point, which is also what the outside windows count as.
    std::fill(best.begin(), best.end(), static_cast<uint8_t>(zero));
    const int64_t inside = std::clamp<int64_t>(lengths[b] - width + 1, 0, windows);
    for (int64_t t = 0; t < inside; ++t) {
      const uint8_t* row = data + (b * windows + t) * channels;
      for (int64_t c = 0; c < channels; ++c) best[static_cast<size_t>(c)] = std::max(best[static_cast<size_t>(c)], row[c]);
    }
    for (int64_t c = 0; c < channels; ++c) {
      out[b * out_stride + c] = static_cast<float>((static_cast<int64_t>(best[static_cast<size_t>(c)]) - zero) * scale);
    }
  }
}

// Global average pooling of int8 feature maps, dequantized: [batch, channels] floats.
torch::Tensor MeanOverPositionsInt8(const torch::Tensor& maps) {
  const torch::Tensor codes = ChannelsLastCodes(maps);
  const int64_t batch = codes.size(0), positions = codes.size(1), channels = codes.size(2);
  const auto* data = reinterpret_cast<const uint8_t*>(codes.data_ptr());
  const double scale = maps.q_scale();
  const int64_t zero = maps.q_zero_point();
  torch::Tensor out = torch::empty({batch, channels}, torch::kFloat);
  float* o = out.data_ptr<float>();
  std::vector<int64_t> sums(static_cast<size_t>(channels));
  for (int64_t b = 0; b < batch; ++b) {
    std::fill(sums.begin(), sums.end(), 0);
    for (int64_t p = 0; p < positions; ++p) {
      const uint8_t* row = data + (b * positions + p) * channels;
      for (int64_t c = 0; c < channels; ++c) sums[static_cast<size_t>(c)] += row[c];
    }
    for (int64_t c = 0; c < channels; ++c) {
      o[b * channels + c] = static_cast<float>(
          (static_cast<double>(sums[static_cast<size_t>(c)]) / static_cast<double>(positions) - static_cast<double>(zero)) * scale);
    }
  }
  return out;
}

}  // namespace

torch::Tensor Int8Network::ResNetForward(const torch::Tensor& images) const {
  // The engines compute convolutions channels-last; converting once here saves a reorder per layer.
  torch::Tensor x = at::quantize_per_tensor(images.contiguous(at::MemoryFormat::ChannelsLast), input_.scale,
                                            input_.zero_point, torch::kQUInt8);
  x = Run(stem_, x);
  const Ops& ops = QuantizedOps();
  for (const Block& b : blocks_) {
    torch::Tensor out = Run(b.conv2, Run(b.conv1, x));
    torch::Tensor shortcut = b.downsample ? Run(*b.downsample, x) : x;
    x = CallBoxed(ops.add_relu, {out, shortcut, b.out.scale, b.out.zero_point}).toTensor();
  }
  return torch::linear(fc_input_->At("fc", MeanOverPositionsInt8(x)), fc_weight_, fc_bias_);
}

torch::Tensor Int8Network::TextCnnForward(const torch::Tensor& ids) const {
  const int64_t batch = ids.size(0), words = ids.size(1);
  // Gathered rows are [batch, words, dim]: transposed, the channels-last layout the engines want.
  torch::Tensor rows = embedding_codes_.index_select(0, ids.reshape(-1)).view({batch, words, embedding_codes_.size(1)});
  torch::Tensor x = at::_make_per_tensor_quantized_tensor(rows, input_.scale, input_.zero_point).transpose(1, 2);
  const torch::Tensor lengths = TextLengths(architecture_.text, ids).contiguous();
  const int64_t maps = text_convs_.empty() ? 0 : fc_weight_.size(1) / static_cast<int64_t>(text_convs_.size());
  torch::Tensor pooled = torch::empty({batch, fc_weight_.size(1)}, torch::kFloat);
  for (size_t i = 0; i < text_convs_.size(); ++i) {
    MaxOverTextWindowsInt8(Run(text_convs_[i], x), lengths.data_ptr<int64_t>(),
                           architecture_.text.filter_widths(static_cast<int>(i)),
                           pooled.data_ptr<float>() + static_cast<int64_t>(i) * maps, pooled.size(1));
  }
  return torch::linear(fc_input_->At("fc", pooled), fc_weight_, fc_bias_);
}

}  // namespace textclf::cnn
