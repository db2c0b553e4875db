#include "core/encoder/encoder.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/encoder/encoder_impl.h"
#include "core/encoder/safetensors.h"
#include "core/torch/cuda_devices.h"

namespace textclf::encoder {
namespace {

constexpr char kHeadPrefix[] = "cls.";
constexpr char kSavedPrefix[] = "bert.";
constexpr std::string_view kAnchor = "embeddings.word_embeddings.weight";

// Old TensorFlow-converted checkpoints name LayerNorm parameters gamma and beta.
std::string CanonicalName(std::string name) {
  if (name.ends_with("LayerNorm.gamma")) return name.substr(0, name.size() - 5) + "weight";
  if (name.ends_with("LayerNorm.beta")) return name.substr(0, name.size() - 4) + "bias";
  return name;
}

// Weights that checkpoints carry and an encoder does not need: buffers, the pooler, heads.
bool Ignorable(std::string_view relative, std::string_view full) {
  return relative == "embeddings.position_ids" || relative.starts_with("pooler.") || full.starts_with(kHeadPrefix);
}

std::string ListNames(const std::vector<std::string>& names) {
  constexpr size_t kShown = 12;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kShown));
  std::string out = absl::StrJoin(shown, ", ");
  if (names.size() > kShown) absl::StrAppend(&out, " and ", names.size() - kShown, " more");
  return out;
}

// config.json sizes the network, which is allocated before its weights are compared with the
// file: a configuration with more parameters than model.safetensors has bytes (no dtype takes
// less than one) cannot match it, and is refused before it allocates anything.
absl::Status CheckConfigFitsWeights(const BertConfig& c, size_t weight_bytes) {
  const double h = c.hidden_size;
  const double i = c.intermediate_size;
  const double embeddings = (static_cast<double>(c.vocab_size) + c.max_position_embeddings + c.type_vocab_size + 2) * h;
  const double layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h;
  const double parameters = embeddings + c.num_hidden_layers * layer;
  if (parameters > static_cast<double>(weight_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("config.json describes an encoder of ", parameters,
                                                   " parameters, but model.safetensors has only ", weight_bytes,
                                                   " bytes"));
  }
  return absl::OkStatus();
}

std::string ShapeString(c10::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape.vec(), ", "), "]");
}

absl::Status CopyWeights(const SafetensorsReader& reader, torch::nn::Module& model, torch::nn::Module* head) {
  std::string prefix;
  bool found_anchor = false;
  for (const auto& t : reader.tensors()) {
    if (t.name.ends_with(kAnchor)) {
      prefix = t.name.substr(0, t.name.size() - kAnchor.size());
      found_anchor = true;
      break;
    }
  }
  if (!found_anchor) {
    return absl::InvalidArgumentError(absl::StrCat("model.safetensors has no ", std::string(kAnchor),
                                                   " tensor: it is not a BERT checkpoint"));
  }
  auto params = model.named_parameters(/*recurse=*/true);
  std::map<std::string, torch::Tensor> wanted;
  for (auto& p : params) wanted[p.key()] = p.value();
  if (head != nullptr) {
    for (auto& p : head->named_parameters(true)) wanted[p.key()] = p.value();
  }
  std::set<std::string> loaded;
  std::vector<std::string> unexpected;
  torch::NoGradGuard no_grad;
  for (const auto& t : reader.tensors()) {
    const std::string full = CanonicalName(t.name);
    std::string relative = full.starts_with(prefix) ? full.substr(prefix.size()) : full;
    auto it = wanted.find(relative);
    if (it == wanted.end()) it = wanted.find(full);
    if (it == wanted.end()) {
      if (!Ignorable(relative, full)) unexpected.push_back(t.name);
      continue;
    }
    torch::Tensor& target = it->second;
    if (std::vector<int64_t>(target.sizes().begin(), target.sizes().end()) != t.shape) {
      return absl::InvalidArgumentError(absl::StrCat("model.safetensors: ", t.name, " has shape ",
                                                     ShapeString(t.shape), " but config.json implies ",
                                                     ShapeString(target.sizes())));
    }
    std::vector<float> values = ToFloat32(t);
    target.copy_(torch::from_blob(values.data(), target.sizes(), torch::kFloat32));
    loaded.insert(it->first);
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : wanted) {
    if (!loaded.contains(name)) missing.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string message = "model.safetensors does not match config.json:";
    if (!missing.empty()) absl::StrAppend(&message, " missing ", ListNames(missing), ";");
    if (!unexpected.empty()) absl::StrAppend(&message, " unexpected ", ListNames(unexpected), ";");
    message.pop_back();
    return absl::InvalidArgumentError(message);
  }
  return absl::OkStatus();
}

void AppendTensors(torch::nn::Module& module, const std::string& prefix, std::vector<std::string>* names,
                   std::vector<torch::Tensor>* values) {
  for (auto& p : module.named_parameters(true)) {
    names->push_back(prefix + p.key());
    values->push_back(p.value().detach().to(torch::kCPU, torch::kFloat32).contiguous());
  }
}

}  // namespace

absl::StatusOr<std::string> ResolveDevice(std::string_view device) {
  const bool cuda_available = torch_support::CudaDeviceCount() > 0;
  if (device.empty() || device == "auto") return std::string(cuda_available ? "cuda:0" : "cpu");
  if (device == "cpu") return std::string("cpu");
  if (device == "cuda" || device.starts_with("cuda:")) {
    int index = 0;
    if (device.size() > 5) {
      const std::string digits(device.substr(5));
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 3) {
        return absl::InvalidArgumentError(absl::StrCat("unknown device \"", std::string(device), "\"; use auto, cpu or cuda"));
      }
      index = std::stoi(digits);
    }
    if (index >= torch_support::CudaDeviceCount()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "device \"", std::string(device), "\" was asked for but this server has ", torch_support::CudaDeviceCount(),
          " usable CUDA devices; use \"cpu\" or \"auto\""));
    }
    return absl::StrCat("cuda:", index);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown device \"", std::string(device), "\"; use auto, cpu or cuda"));
}

torch::Device TorchDevice(const std::string& name) { return torch::Device(name); }

absl::StatusOr<CheckpointFiles> ReadCheckpointFolder(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat("encoder folder ", dir.string(), " does not exist"));
  }
  CheckpointFiles files;
  for (auto [name, out] : {std::pair{kConfigFile, &files.config_json}, std::pair{kWeightsFile, &files.weights},
                           std::pair{kVocabFile, &files.vocab}}) {
    if (!std::filesystem::exists(dir / name)) {
      return absl::NotFoundError(absl::StrCat("encoder folder ", dir.string(), " has no ", name,
                                              " (it needs config.json, model.safetensors and vocab.txt)"));
    }
    ASSIGN_OR_RETURN(*out, ReadFile(dir / name));
  }
  return files;
}

absl::StatusOr<CheckpointFiles> CheckpointFromModelFiles(const ModelFiles& model_files, std::string_view prefix) {
  CheckpointFiles files;
  const std::string p(prefix);
  ASSIGN_OR_RETURN(std::string_view config, model_files.Get(p + kConfigFile));
  ASSIGN_OR_RETURN(std::string_view weights, model_files.Get(p + kWeightsFile));
  ASSIGN_OR_RETURN(std::string_view vocab, model_files.Get(p + kVocabFile));
  files.config_json = std::string(config);
  files.weights = std::string(weights);
  files.vocab = std::string(vocab);
  return files;
}

absl::Status WriteCheckpointFolder(const std::filesystem::path& dir, const CheckpointFiles& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  RETURN_IF_ERROR(WriteFileDurably(dir / kConfigFile, files.config_json));
  RETURN_IF_ERROR(WriteFileDurably(dir / kWeightsFile, files.weights));
  return WriteFileDurably(dir / kVocabFile, files.vocab);
}

Encoder::Encoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Encoder::~Encoder() = default;

absl::StatusOr<std::unique_ptr<Encoder>> Encoder::Load(const CheckpointFiles& files, std::string_view device) {
  ASSIGN_OR_RETURN(BertConfig config, ParseBertConfig(files.config_json));
  RETURN_IF_ERROR(CheckConfigFitsWeights(config, files.weights.size()));
  ASSIGN_OR_RETURN(BertTokenizer tokenizer, BertTokenizer::Create(files.vocab));
  if (tokenizer.vocab_size() != config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("vocab.txt has ", tokenizer.vocab_size(),
                                                   " tokens but config.json says vocab_size ", config.vocab_size));
  }
  ASSIGN_OR_RETURN(std::string device_name, ResolveDevice(device));
  ASSIGN_OR_RETURN(SafetensorsReader reader, SafetensorsReader::Parse(files.weights));
  auto impl = std::make_unique<Impl>(config, std::move(tokenizer), torch::Device(torch::kCPU));
  RETURN_IF_ERROR(CopyWeights(reader, *impl->model, nullptr));
  impl->device = TorchDevice(device_name);
  impl->model->to(impl->device);
  impl->model->eval();
  return std::unique_ptr<Encoder>(new Encoder(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Encoder>> Encoder::CreateRandom(const BertConfig& config, BertTokenizer tokenizer,
                                                               std::string_view device, uint64_t seed,
                                                               bool with_mlm_head) {
  if (tokenizer.vocab_size() != config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("the vocabulary has ", tokenizer.vocab_size(),
                                                   " tokens but the configuration says ", config.vocab_size));
  }
  ASSIGN_OR_RETURN(std::string device_name, ResolveDevice(device));
  torch::manual_seed(seed);
  auto impl = std::make_unique<Impl>(config, std::move(tokenizer), TorchDevice(device_name));
  InitializeBertWeights(*impl->model, config.pad_token_id);
  if (with_mlm_head) {
    impl->mlm_head = MlmHead(config);
    InitializeBertWeights(*impl->mlm_head, config.pad_token_id);
    impl->mlm_head->to(impl->device);
    impl->mlm_head->eval();
  }
  impl->model->to(impl->device);
  // Like a loaded one, a new encoder encodes deterministically (no dropout); the pretrainer
  // switches to training mode for its own steps.
  impl->model->eval();
  return std::unique_ptr<Encoder>(new Encoder(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Encoder>> Encoder::CopyTo(std::string_view device) const {
  ASSIGN_OR_RETURN(std::string device_name, ResolveDevice(device));
  auto impl = std::make_unique<Impl>(impl_->config, impl_->tokenizer, TorchDevice(device_name));
  {
    torch::NoGradGuard no_grad;
    auto source = impl_->model->named_parameters(true);
    for (auto& p : impl->model->named_parameters(true)) p.value().copy_(source[p.key()]);
  }
  impl->model->to(impl->device);
  impl->model->eval();
  return std::unique_ptr<Encoder>(new Encoder(std::move(impl)));
}

const BertConfig& Encoder::config() const { return impl_->config; }
const BertTokenizer& Encoder::tokenizer() const { return impl_->tokenizer; }
std::string Encoder::device_name() const { return impl_->device.str(); }
bool Encoder::on_cuda() const { return impl_->device.is_cuda(); }

int64_t Encoder::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : impl_->model->parameters()) n += p.numel();
  return n;
}

absl::StatusOr<CheckpointFiles> Encoder::Save() const {
  std::vector<std::string> names;
  std::vector<torch::Tensor> values;
  AppendTensors(*impl_->model, kSavedPrefix, &names, &values);
  if (impl_->mlm_head) AppendTensors(*impl_->mlm_head, "", &names, &values);
  std::vector<SafeTensorToWrite> tensors;
  for (size_t i = 0; i < names.size(); ++i) {
    tensors.push_back({names[i], values[i].sizes().vec(),
                       std::span<const float>(values[i].data_ptr<float>(), static_cast<size_t>(values[i].numel()))});
  }
  CheckpointFiles files;
  ASSIGN_OR_RETURN(files.weights, WriteSafetensors(tensors, {{"format", "pt"}}));
  files.config_json = BertConfigToJson(impl_->config);
  files.vocab = impl_->tokenizer.vocab_text();
  return files;
}

std::vector<int32_t> WrapSequence(const BertTokenizer& tokenizer, std::span<const int32_t> pieces) {
  std::vector<int32_t> out;
  out.reserve(pieces.size() + 2);
  out.push_back(tokenizer.cls_id());
  out.insert(out.end(), pieces.begin(), pieces.end());
  out.push_back(tokenizer.sep_id());
  return out;
}

PaddedBatch PadSequences(std::span<const std::vector<int32_t>* const> sequences, int32_t pad_id,
                         torch::Tensor host_buffer) {
  size_t longest = 0;
  for (const auto* s : sequences) longest = std::max(longest, s->size());
  const int64_t n = static_cast<int64_t>(sequences.size());
  const int64_t width = static_cast<int64_t>(longest);
  PaddedBatch batch;
  if (host_buffer.defined()) {
    batch.ids = host_buffer.narrow(0, 0, n * width).view({n, width}).fill_(pad_id);
    batch.mask = host_buffer.narrow(0, n * width, n * width).view({n, width}).zero_();
  } else {
    batch.ids = torch::full({n, width}, pad_id, torch::kInt64);
    batch.mask = torch::zeros({n, width}, torch::kInt64);
  }
  auto ids = batch.ids.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<int64_t, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& s = *sequences[static_cast<size_t>(i)];
    for (size_t j = 0; j < s.size(); ++j) {
      ids[i][static_cast<int64_t>(j)] = s[j];
      mask[i][static_cast<int64_t>(j)] = 1;
    }
  }
  return batch;
}

torch::Tensor MeanPoolPieces(const torch::Tensor& hidden, const torch::Tensor& mask) {
  torch::Tensor pool = mask.clone();
  pool.select(1, 0).zero_();
  const torch::Tensor last = (mask.sum(1) - 1).clamp_min(0).unsqueeze(1);
  pool.scatter_(1, last, 0);
  const torch::Tensor weights = pool.to(hidden.scalar_type()).unsqueeze(-1);
  return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0);
}

}  // namespace textclf::encoder
