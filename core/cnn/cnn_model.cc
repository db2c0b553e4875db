#include "core/cnn/cnn_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/cnn/cnn_config.h"
#include "core/cnn/image_input.h"
#include "core/cnn/quantize_options.h"
#include "core/common/status_macros.h"
#include "core/eval/temperature_scaling.h"
#include "core/torch/torch_device_context.h"

namespace textclf::cnn {
namespace {

int WidestFilter(const v1::TextCnnConfig& c) {
  int widest = 1;
  for (int w : c.filter_widths()) widest = std::max(widest, w);
  return widest;
}

// The stored configuration sizes every input buffer (max_tokens, the image geometry) and the
// network's loops (depth), and the manifest comes from disk: it passes the checks it passed at
// training, or the version fails to load rather than allocating or looping without bound.
absl::Status ValidateStoredConfig(const v1::Manifest& manifest) {
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat("manifest of ", manifest.name(), " version ", manifest.version(),
                                            " has an invalid CNN configuration: ", what));
  };
  if (manifest.family() == v1::TEXT_CNN) {
    if (auto c = ResolveTextCnnConfig(manifest.config().text_cnn()); !c.ok()) return bad(std::string(c.status().message()));
  } else if (manifest.family() == v1::IMAGE_CNN) {
    if (auto c = ResolveImageCnnConfig(manifest.config().image_cnn()); !c.ok()) return bad(std::string(c.status().message()));
  }
  const v1::QuantizationInfo& q = manifest.cnn().quantization();
  if (q.activation_bits() != 0 && q.activation_bits() != 32 && (q.activation_bits() < 2 || q.activation_bits() > 8)) {
    return bad(absl::StrCat("activation_bits is ", q.activation_bits(), "; quantized activations have 2 to 8 bits"));
  }
  for (const v1::ActivationQuantizer& a : q.activations()) {
    if (!std::isfinite(a.threshold()) || a.threshold() < 0) {
      return bad(absl::StrCat("the activation threshold of ", a.site(), " is ", a.threshold()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void EncodeText(const Vocabulary& vocabulary, const v1::TextCnnConfig& config, std::string_view text,
                std::vector<int64_t>* ids) {
  vocabulary.Encode(text, config.max_tokens(), ids);
}

torch::Tensor EncodeTexts(const Vocabulary& vocabulary, const v1::TextCnnConfig& config,
                          std::span<const std::string_view> texts) {
  std::vector<std::vector<int64_t>> ids(texts.size());
  int64_t length = WidestFilter(config);
  for (size_t i = 0; i < texts.size(); ++i) {
    EncodeText(vocabulary, config, texts[i], &ids[i]);
    length = std::max<int64_t>(length, static_cast<int64_t>(ids[i].size()));
  }
  torch::Tensor out = torch::zeros({static_cast<int64_t>(texts.size()), length}, torch::kLong);
  int64_t* data = out.data_ptr<int64_t>();
  for (size_t i = 0; i < ids.size(); ++i) std::copy(ids[i].begin(), ids[i].end(), data + static_cast<int64_t>(i) * length);
  return out;
}

absl::StatusOr<std::unique_ptr<Model>> CnnModel::Load(v1::Manifest manifest, const ModelFiles& files) {
  if (!manifest.has_cnn()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest of ", manifest.name(), " has no CNN state"));
  }
  RETURN_IF_ERROR(ValidateStoredConfig(manifest));
  const v1::CnnState& state = manifest.cnn();
  Architecture architecture;
  architecture.family = manifest.family();
  std::optional<Vocabulary> vocabulary;
  int64_t vocabulary_size = 0;
  if (manifest.family() == v1::TEXT_CNN) {
    architecture.text = manifest.config().text_cnn();
    ASSIGN_OR_RETURN(std::string_view words, files.Get(state.vocabulary_file()));
    ASSIGN_OR_RETURN(vocabulary, Vocabulary::Parse(words));
    vocabulary_size = vocabulary->size();
    if (vocabulary_size != state.vocabulary_size()) {
      return absl::DataLossError(absl::StrCat("the vocabulary file has ", vocabulary_size - 2,
                                              " words; the manifest says ", state.vocabulary_size() - 2));
    }
  } else if (manifest.family() == v1::IMAGE_CNN) {
    architecture.image = manifest.config().image_cnn();
    const auto& c = architecture.image;
    if (c.channels() < 1 || c.height() < 1 || c.width() < 1 || c.mean_size() != c.channels() ||
        c.std_size() != c.channels()) {
      return absl::DataLossError(absl::StrCat("manifest of ", manifest.name(),
                                              " lacks the image geometry or normalisation of an IMAGE_CNN model"));
    }
  } else {
    return absl::InvalidArgumentError("a CNN model must be of family TEXT_CNN or IMAGE_CNN");
  }
  ASSIGN_OR_RETURN(std::string_view bytes, files.Get(state.weights_file()));
  ASSIGN_OR_RETURN(std::vector<ArchiveTensor> archive, ParseArchive(bytes, state.weights_file()));
  ASSIGN_OR_RETURN(TensorMap tensors, FromArchive(archive));
  const bool folded = state.quantization().batch_norm_folded();
  if (absl::Status s = CheckTensors(tensors, architecture, manifest.classes_size(), vocabulary_size, folded); !s.ok()) {
    return absl::DataLossError(absl::StrCat("weights file ", state.weights_file(), ": ", std::string(s.message())));
  }
  std::unique_ptr<CnnModel> model(
      new CnnModel(std::move(manifest), std::move(architecture), std::move(tensors), std::move(vocabulary)));
  model->PrepareInt8(archive);
  return std::unique_ptr<Model>(std::move(model));
}

CnnModel::CnnModel(v1::Manifest manifest, Architecture architecture, TensorMap tensors,
                   std::optional<Vocabulary> vocabulary)
    : Model(std::move(manifest)),
      architecture_(std::move(architecture)),
      cpu_tensors_(std::move(tensors)),
      vocabulary_(std::move(vocabulary)) {
  const v1::CnnState& state = this->manifest().cnn();
  if (state.temperature() > 0) temperature_ = state.temperature();
  const v1::QuantizationInfo& q = state.quantization();
  if (q.activation_bits() > 0 && q.activation_bits() < 32) {
    activation_quantizer_ = std::make_unique<FakeQuantHook>(
        std::vector<v1::ActivationQuantizer>(q.activations().begin(), q.activations().end()), q.activation_bits());
  }
}

void CnnModel::PrepareInt8(const std::vector<ArchiveTensor>& archive) {
  if (!quantized()) return;
  std::map<std::string, std::vector<float>> scales;
  for (const ArchiveTensor& t : archive) {
    if (t.bits < 32) scales[t.name] = t.scales;
  }
  auto net = Int8Network::Build(architecture_, cpu_tensors_, scales, manifest().cnn().quantization());
  if (net.ok()) {
    int8_ = std::move(*net);
  } else {
    simulated_because_ = std::string(net.status().message());
  }
}

std::string CnnModel::execution() const {
  if (!quantized()) return "float";
  if (manifest().cnn().quantization().activation_bits() == kFloatBits) return "float kernels on the dequantized weights";
  if (int8_ != nullptr) return absl::StrCat("int8 kernels (", int8_->engine(), ") on CPU; simulated int8 on CUDA");
  return absl::StrCat("simulated int8: ", simulated_because_);
}

absl::Status CnnModel::ValidateInput(const ModelInput& input) const {
  if (architecture_.family == v1::TEXT_CNN) {
    if (input.tensor != nullptr) return absl::InvalidArgumentError("a TEXT_CNN model classifies texts, not tensors");
    return absl::OkStatus();
  }
  if (input.tensor == nullptr) {
    const auto& c = architecture_.image;
    return absl::InvalidArgumentError(absl::StrCat("an IMAGE_CNN model classifies tensors, not texts: send tensors of shape [",
                                                   c.channels(), ", ", c.height(), ", ", c.width(), "], UINT8 or FLOAT32"));
  }
  return ValidateImage(*input.tensor, architecture_.image);
}

std::vector<int64_t> CnnModel::FillInput(std::span<const ModelInput> batch, torch::Tensor* host) const {
  const int64_t rows = static_cast<int64_t>(batch.size());
  if (architecture_.family == v1::TEXT_CNN) {
    thread_local std::vector<std::vector<int64_t>> ids;
    if (ids.size() < batch.size()) ids.resize(batch.size());
    int64_t length = WidestFilter(architecture_.text);
    for (size_t i = 0; i < batch.size(); ++i) {
      EncodeText(*vocabulary_, architecture_.text, batch[i].text, &ids[i]);
      length = std::max<int64_t>(length, static_cast<int64_t>(ids[i].size()));
    }
    int64_t* data = host->data_ptr<int64_t>();
    std::fill(data, data + rows * length, Vocabulary::kPad);
    for (size_t i = 0; i < batch.size(); ++i) std::copy(ids[i].begin(), ids[i].end(), data + static_cast<int64_t>(i) * length);
    return {rows, length};
  }
  const auto& c = architecture_.image;
  const int64_t size = int64_t{c.channels()} * c.height() * c.width();
  float* data = host->data_ptr<float>();
  for (size_t i = 0; i < batch.size(); ++i) NormaliseImage(*batch[i].tensor, c, data + static_cast<int64_t>(i) * size);
  return {rows, c.channels(), c.height(), c.width()};
}

torch::Tensor CnnModel::EncodeBatch(std::span<const ModelInput> batch) const {
  if (architecture_.family == v1::TEXT_CNN) {
    std::vector<std::string_view> texts;
    for (const ModelInput& in : batch) texts.push_back(in.text);
    return EncodeTexts(*vocabulary_, architecture_.text, texts);
  }
  const auto& c = architecture_.image;
  torch::Tensor out = torch::empty({static_cast<int64_t>(batch.size()), c.channels(), c.height(), c.width()}, torch::kFloat);
  std::vector<int64_t> shape = FillInput(batch, &out);
  return out.view(shape);
}

const TensorMap& CnnModel::TensorsOn(const torch::Device& device) const {
  if (!device.is_cuda()) return cpu_tensors_;
  std::lock_guard<std::mutex> lock(devices_mu_);
  auto it = cuda_tensors_.find(device.index());
  if (it == cuda_tensors_.end()) it = cuda_tensors_.emplace(device.index(), MoveTo(cpu_tensors_, device)).first;
  return it->second;
}

torch::Tensor CnnModel::Forward(const torch::Tensor& input, ActivationHook* hook) const {
  ForwardOptions options;
  options.hook = hook != nullptr ? hook : activation_quantizer_.get();
  return architecture_.Forward(TensorsOn(input.device()), input, options);
}

absl::StatusOr<std::vector<float>> CnnModel::Logits(std::span<const ModelInput> batch, const Device& device) const {
  if (batch.empty()) return std::vector<float>();
  // Cheap next to the forward pass, and it keeps a malformed tensor from reading out of bounds
  // whichever path it came by.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (absl::Status s = ValidateInput(batch[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("input ", i, ": ", std::string(s.message())));
    }
  }
  torch_support::TorchDeviceContext& context = torch_support::ContextFor(device);
  torch::InferenceMode inference;
  // Inputs are written straight into the instance's (pinned, on CUDA) host buffer.
  int64_t elements;
  torch::Dtype dtype;
  if (architecture_.family == v1::TEXT_CNN) {
    elements = static_cast<int64_t>(batch.size()) *
               std::max<int64_t>(architecture_.text.max_tokens(), WidestFilter(architecture_.text));
    dtype = torch::kLong;
  } else {
    const auto& c = architecture_.image;
    elements = static_cast<int64_t>(batch.size()) * c.channels() * c.height() * c.width();
    dtype = torch::kFloat;
  }
  torch::Tensor host = context.HostBuffer(elements, dtype);
  std::vector<int64_t> shape = FillInput(batch, &host);
  int64_t used = 1;
  for (int64_t d : shape) used *= d;
  torch::Tensor input = context.ToDevice(host.narrow(0, 0, used).view(shape));
  torch::Tensor logits;
  try {
    logits = (int8_ != nullptr && !input.is_cuda() ? int8_->Forward(input) : Forward(input, nullptr))
                 .to(torch::kCPU)
                 .contiguous();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("the forward pass of ", name(), " failed: ", e.what()));
  }
  return std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
}

absl::Status CnnModel::Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const {
  ASSIGN_OR_RETURN(std::vector<float> logits, Logits(batch, device));
  out->Resize(batch.size(), num_classes());
  std::copy(logits.begin(), logits.end(), out->scores.begin());
  for (size_t i = 0; i < batch.size(); ++i) {
    eval::SoftmaxWithTemperature(std::span<const float>(out->score_row(i), out->cols), temperature_,
                                 std::span<float>(out->probability_row(i), out->cols));
  }
  return absl::OkStatus();
}

}  // namespace textclf::cnn
