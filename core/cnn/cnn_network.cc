#include "core/cnn/cnn_network.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/cnn/activation_range.h"
#include "core/cnn/cnn_config.h"

namespace textclf::cnn {
namespace {

constexpr double kBatchNormMomentum = 0.1;
constexpr double kBatchNormEps = 1e-5;

const torch::Tensor& Get(const TensorMap& p, const std::string& name) {
  auto it = p.find(name);
  TORCH_CHECK(it != p.end(), "tensor ", name, " is missing");  // CheckTensors ran before any forward
  return it->second;
}

torch::Tensor Optional(const TensorMap& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? torch::Tensor() : it->second;
}

torch::Tensor Conv(const TensorMap& p, const std::string& name, const torch::Tensor& x, int64_t stride, int64_t padding) {
  return torch::conv2d(x, Get(p, name + ".weight"), Optional(p, name + ".bias"), stride, padding);
}

// Identity when the batch norm was folded into the convolution before it.
torch::Tensor BatchNorm(const TensorMap& p, const std::string& name, const torch::Tensor& x, bool training) {
  auto weight = p.find(name + ".weight");
  if (weight == p.end()) return x;
  return torch::batch_norm(x, weight->second, Get(p, name + ".bias"), Get(p, name + ".running_mean"),
                           Get(p, name + ".running_var"), training, kBatchNormMomentum, kBatchNormEps,
                           /*cudnn_enabled=*/true);
}

torch::Tensor Hook(const ForwardOptions& o, const std::string& site, const torch::Tensor& x) {
  return o.hook != nullptr ? o.hook->At(site, x) : x;
}

std::string Block(int stage, int block) { return absl::StrCat("layer", stage, ".", block); }

// (convolution, batch norm) pairs of the ResNet, in forward order.
std::vector<std::pair<std::string, std::string>> ConvBnPairs(int depth) {
  std::vector<std::pair<std::string, std::string>> pairs = {{"conv1", "bn1"}};
  const int n = BlocksPerStage(depth);
  for (int s = 1; s <= 3; ++s) {
    for (int b = 0; b < n; ++b) {
      const std::string prefix = Block(s, b);
      pairs.emplace_back(prefix + ".conv1", prefix + ".bn1");
      pairs.emplace_back(prefix + ".conv2", prefix + ".bn2");
      if (s > 1 && b == 0) pairs.emplace_back(prefix + ".downsample.0", prefix + ".downsample.1");
    }
  }
  return pairs;
}

torch::Tensor ResNetForward(const TensorMap& p, int depth, torch::Tensor x, const ForwardOptions& o) {
  x = Hook(o, "conv1", x);
  x = torch::relu(BatchNorm(p, "bn1", Conv(p, "conv1", x, 1, 1), o.training));
  const int n = BlocksPerStage(depth);
  for (int s = 1; s <= 3; ++s) {
    for (int b = 0; b < n; ++b) {
      const std::string prefix = Block(s, b);
      const int64_t stride = s > 1 && b == 0 ? 2 : 1;
      torch::Tensor in = Hook(o, prefix + ".conv1", x);
      torch::Tensor out = torch::relu(BatchNorm(p, prefix + ".bn1", Conv(p, prefix + ".conv1", in, stride, 1), o.training));
      out = Hook(o, prefix + ".conv2", out);
      out = BatchNorm(p, prefix + ".bn2", Conv(p, prefix + ".conv2", out, 1, 1), o.training);
      // Both operands of the addition are rounded, and the identity shortcut adds the rounded
      // block input, because an int8 network holds them as integers (Int8Network).
      out = Hook(o, prefix + ".residual", out);
      torch::Tensor shortcut = in;
      if (s > 1 && b == 0) {
        shortcut = BatchNorm(p, prefix + ".downsample.1", Conv(p, prefix + ".downsample.0", in, stride, 0), o.training);
        shortcut = Hook(o, prefix + ".shortcut", shortcut);
      }
      x = torch::relu(out + shortcut);
    }
  }
  x = Hook(o, "avgpool", x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  x = Hook(o, "fc", x);
  return torch::linear(x, Get(p, "fc.weight"), Get(p, "fc.bias"));
}

torch::Tensor TextCnnForward(const TensorMap& p, const v1::TextCnnConfig& c, const torch::Tensor& ids,
                             const ForwardOptions& o) {
  // Rows are word ids padded with kPad (0) to the longest text of the batch. The padding row of
  // the embedding gets no gradient (it stays zero), and the windows that reach past a text's own
  // length are masked out of the max-over-time pooling, so a text's scores do not depend on what
  // it was batched with (training, the Quantize report and Classify batch differently). A text
  // shorter than the widest filter counts as padded to that width.
  const int64_t padding_idx = 0;
  torch::Tensor x = torch::embedding(Get(p, "embedding.weight"), ids, padding_idx).transpose(1, 2).contiguous();
  x = Hook(o, "convs", x);
  const torch::Tensor lengths = TextLengths(c, ids);
  std::vector<torch::Tensor> pooled;
  for (int i = 0; i < c.filter_widths_size(); ++i) {
    const std::string name = absl::StrCat("convs.", i);
    torch::Tensor maps = torch::relu(torch::conv1d(x, Get(p, name + ".weight"), Get(p, name + ".bias")));
    pooled.push_back(MaxOverTextWindows(maps, lengths, c.filter_widths(i)));
  }
  torch::Tensor h = torch::cat(pooled, 1);
  if (o.training && o.generator != nullptr && c.dropout() > 0) {
    // The mask is drawn on the CPU from the job's own generator, so that runs are reproducible
    // and concurrent jobs do not share a random stream.
    torch::Tensor keep = torch::empty(h.sizes(), torch::kFloat).bernoulli_(1.0 - c.dropout(), *o.generator);
    h = h * keep.to(h.device()) / (1.0 - c.dropout());
  }
  h = Hook(o, "fc", h);
  return torch::linear(h, Get(p, "fc.weight"), Get(p, "fc.bias"));
}

void KaimingNormalFanOut(torch::Tensor& w, at::Generator& g) {
  const double fan_out = static_cast<double>(w.size(0)) * static_cast<double>(w[0][0].numel());
  w.normal_(0, std::sqrt(2.0 / fan_out), g);
}

void UniformFanIn(torch::Tensor& t, int64_t fan_in, at::Generator& g) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  t.uniform_(-bound, bound, g);
}

}  // namespace

torch::Tensor TextLengths(const v1::TextCnnConfig& c, const torch::Tensor& ids) {
  int widest = 1;
  for (int w : c.filter_widths()) widest = std::max(widest, w);
  return ids.ne(0).sum(1).clamp_min(widest);  // 0 is the padding id
}

torch::Tensor MaxOverTextWindows(const torch::Tensor& maps, const torch::Tensor& lengths, int64_t width) {
  // Window t covers words t .. t + w - 1: it is inside the text when t + w <= length.
  const int64_t windows = maps.size(2);
  const torch::Tensor positions = torch::arange(windows, lengths.options());
  const torch::Tensor inside = (positions.unsqueeze(0) + width).le(lengths.unsqueeze(1)).unsqueeze(1);  // [batch, 1, t]
  // ReLU outputs are >= 0, so zeroing the outside windows leaves the maximum over the inside ones.
  return std::get<0>(maps.masked_fill(inside.logical_not(), 0).max(2));
}

FakeQuantHook::FakeQuantHook(const std::vector<v1::ActivationQuantizer>& sites, int bits) {
  for (const v1::ActivationQuantizer& s : sites) {
    const int levels = ActivationLevels(bits, s.is_unsigned());
    grids_[s.site()] = Grid{s.threshold() > 0 ? static_cast<double>(s.threshold()) / levels : 0.0,
                            s.is_unsigned() ? 0 : -levels, levels};
  }
}

torch::Tensor FakeQuantHook::At(const std::string& site, const torch::Tensor& x) {
  auto it = grids_.find(site);
  if (it == grids_.end()) return x;
  if (it->second.scale <= 0) return torch::zeros_like(x);  // calibration only ever saw zeros
  return torch::fake_quantize_per_tensor_affine(x, it->second.scale, 0, it->second.min, it->second.max);
}

torch::Tensor Architecture::Forward(const TensorMap& p, const torch::Tensor& input, const ForwardOptions& o) const {
  if (family == v1::TEXT_CNN) return TextCnnForward(p, text, input, o);
  return ResNetForward(p, image.depth(), input, o);
}

std::map<std::string, std::vector<int64_t>> Architecture::ExpectedShapes(int64_t classes, int64_t vocabulary,
                                                                         bool folded) const {
  std::map<std::string, std::vector<int64_t>> shapes;
  if (family == v1::TEXT_CNN) {
    const int64_t dim = text.embedding_dim();
    shapes["embedding.weight"] = {vocabulary, dim};
    for (int i = 0; i < text.filter_widths_size(); ++i) {
      shapes[absl::StrCat("convs.", i, ".weight")] = {text.feature_maps(), dim, text.filter_widths(i)};
      shapes[absl::StrCat("convs.", i, ".bias")] = {text.feature_maps()};
    }
    shapes["fc.weight"] = {classes, int64_t{text.feature_maps()} * text.filter_widths_size()};
    shapes["fc.bias"] = {classes};
    return shapes;
  }
  auto conv = [&](const std::string& name, int64_t out, int64_t in, int64_t k) {
    shapes[name + ".weight"] = {out, in, k, k};
    if (folded) shapes[name + ".bias"] = {out};
  };
  auto bn = [&](const std::string& name, int64_t c) {
    if (folded) return;
    for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"}) shapes[name + part] = {c};
  };
  conv("conv1", 16, image.channels(), 3);
  bn("bn1", 16);
  const int n = BlocksPerStage(image.depth());
  int64_t in = 16;
  for (int s = 1; s <= 3; ++s) {
    const int64_t width = int64_t{16} << (s - 1);
    for (int b = 0; b < n; ++b) {
      const std::string prefix = Block(s, b);
      conv(prefix + ".conv1", width, in, 3);
      bn(prefix + ".bn1", width);
      conv(prefix + ".conv2", width, width, 3);
      bn(prefix + ".bn2", width);
      if (s > 1 && b == 0) {
        conv(prefix + ".downsample.0", width, in, 1);
        bn(prefix + ".downsample.1", width);
      }
      in = width;
    }
  }
  shapes["fc.weight"] = {classes, 64};
  shapes["fc.bias"] = {classes};
  return shapes;
}

TensorMap Architecture::Initialize(int64_t classes, int64_t vocabulary, uint64_t seed) const {
  at::Generator g = at::detail::createCPUGenerator(seed);
  TensorMap p;
  for (const auto& [name, shape] : ExpectedShapes(classes, vocabulary, /*folded=*/false)) {
    p[name] = torch::zeros(shape, torch::kFloat);
  }
  if (family == v1::TEXT_CNN) {
    // Kim (2014): random word vectors from U(-0.25, 0.25); the padding vector stays zero.
    p["embedding.weight"].uniform_(-0.25, 0.25, g);
    p["embedding.weight"][0].zero_();
    for (int i = 0; i < text.filter_widths_size(); ++i) {
      const int64_t fan_in = int64_t{text.embedding_dim()} * text.filter_widths(i);
      UniformFanIn(p[absl::StrCat("convs.", i, ".weight")], fan_in, g);
      UniformFanIn(p[absl::StrCat("convs.", i, ".bias")], fan_in, g);
    }
  } else {
    for (auto& [name, t] : p) {
      const bool is_weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
      if (t.dim() == 4 && is_weight) KaimingNormalFanOut(t, g);
      if (t.dim() == 1 && is_weight) t.fill_(1.0);  // batch norm scale
      if (name.find("running_var") != std::string::npos) t.fill_(1.0);
    }
  }
  const int64_t features = p["fc.weight"].size(1);
  UniformFanIn(p["fc.weight"], features, g);
  UniformFanIn(p["fc.bias"], features, g);
  return p;
}

std::vector<Architecture::Weight> Architecture::QuantizableWeights() const {
  std::vector<Weight> weights;
  if (family == v1::TEXT_CNN) {
    // The embedding is a table, not a layer computing on the input: it follows the general
    // bit-width (it holds most of the weights). The convolutions over it are the first layer.
    weights.push_back({"embedding.weight", false});
    for (int i = 0; i < text.filter_widths_size(); ++i) weights.push_back({absl::StrCat("convs.", i, ".weight"), true});
  } else {
    for (const auto& [conv, bn] : ConvBnPairs(image.depth())) weights.push_back({conv + ".weight", conv == "conv1"});
  }
  weights.push_back({"fc.weight", true});
  return weights;
}

absl::Status CheckTensors(const TensorMap& p, const Architecture& a, int64_t classes, int64_t vocabulary, bool folded) {
  const auto expected = a.ExpectedShapes(classes, vocabulary, folded);
  std::vector<std::string> missing, unexpected, misshapen;
  for (const auto& [name, shape] : expected) {
    auto it = p.find(name);
    if (it == p.end()) {
      missing.push_back(name);
    } else if (it->second.sizes().vec() != shape) {
      misshapen.push_back(absl::StrCat(name, " [", absl::StrJoin(it->second.sizes().vec(), "x"), "], expected [",
                                       absl::StrJoin(shape, "x"), "]"));
    }
  }
  for (const auto& [name, t] : p) {
    if (!expected.contains(name)) unexpected.push_back(name);
  }
  if (missing.empty() && unexpected.empty() && misshapen.empty()) return absl::OkStatus();
  auto list = [](const std::vector<std::string>& names) {
    std::vector<std::string> shown(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(names.size(), 12)));
    return absl::StrCat(absl::StrJoin(shown, ", "), names.size() > shown.size() ? absl::StrCat(" and ", names.size() - shown.size(), " more") : "");
  };
  std::string message = "the tensors do not match the architecture:";
  if (!missing.empty()) absl::StrAppend(&message, " missing keys: ", list(missing), ";");
  if (!unexpected.empty()) absl::StrAppend(&message, " unexpected keys: ", list(unexpected), ";");
  if (!misshapen.empty()) absl::StrAppend(&message, " wrong shapes: ", list(misshapen), ";");
  return absl::InvalidArgumentError(message);
}

void FoldBatchNorm(const Architecture& a, TensorMap* p) {
  if (a.family != v1::IMAGE_CNN) return;
  torch::NoGradGuard no_grad;
  for (const auto& [conv, bn] : ConvBnPairs(a.image.depth())) {
    auto gamma = p->find(bn + ".weight");
    if (gamma == p->end()) continue;
    const torch::Tensor scale = gamma->second / torch::sqrt(p->at(bn + ".running_var") + kBatchNormEps);
    torch::Tensor& w = p->at(conv + ".weight");
    torch::Tensor bias = p->at(bn + ".bias") - p->at(bn + ".running_mean") * scale;
    auto old_bias = p->find(conv + ".bias");
    if (old_bias != p->end()) bias = bias + old_bias->second * scale;
    w = w * scale.view({-1, 1, 1, 1});
    (*p)[conv + ".bias"] = bias;
    for (const char* part : {".weight", ".bias", ".running_mean", ".running_var", ".num_batches_tracked"}) {
      p->erase(bn + part);
    }
  }
}

TensorMap CloneToCpu(const TensorMap& p) {
  TensorMap out;
  for (const auto& [name, t] : p) out[name] = t.detach().to(torch::kCPU).clone();
  return out;
}

TensorMap MoveTo(const TensorMap& p, const torch::Device& device) {
  TensorMap out;
  for (const auto& [name, t] : p) out[name] = t.detach().to(device);
  return out;
}

torch::Tensor ToTorch(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  torch::Tensor t = torch::empty(shape, torch::kFloat);
  std::memcpy(t.data_ptr<float>(), values.data(), values.size() * sizeof(float));
  return t;
}

std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<ArchiveTensor> ToArchive(const TensorMap& p) {
  std::vector<ArchiveTensor> out;
  for (const auto& [name, t] : p) out.push_back(FloatTensor(name, t.sizes().vec(), ToVector(t)));
  return out;
}

absl::StatusOr<TensorMap> FromArchive(const std::vector<ArchiveTensor>& tensors) {
  TensorMap p;
  for (const ArchiveTensor& t : tensors) {
    auto values = t.Floats();
    if (!values.ok()) return values.status();
    if (p.contains(t.name)) return absl::DataLossError(absl::StrCat("the weights file lists ", t.name, " twice"));
    p[t.name] = ToTorch(t.shape, *values);
  }
  return p;
}

bool IsTrainable(const std::string& name) {
  return name.find("running_") == std::string::npos && name.find("num_batches_tracked") == std::string::npos;
}

}  // namespace textclf::cnn
