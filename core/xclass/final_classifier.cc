#include "core/xclass/final_classifier.h"

#include <algorithm>
#include <numeric>
#include <random>

#include <Eigen/Dense>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/encoder/encoder_impl.h"
#include "core/encoder/safetensors.h"
#include "core/torch/fused_adamw.h"

namespace textclf::xclass {
namespace {

constexpr size_t kBatchesPerWindow = 20;

bool NoDecay(const std::string& name) { return name.ends_with("bias") || name.find("LayerNorm") != std::string::npos; }

LinearHead HeadFrom(const torch::Tensor& weight, const torch::Tensor& bias) {
  LinearHead head;
  const torch::Tensor w = weight.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor b = bias.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  head.classes = static_cast<int>(w.size(0));
  head.hidden = static_cast<int>(w.size(1));
  head.weight.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  head.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
  return head;
}

// What the stages of FineTune share. The head's initial weights and dropout draw from torch's
// global generator, seeded first; batch order from `rng`.
struct FineTuning {
  FineTuning(encoder::Encoder::Impl& impl, std::span<const int> labels, const v1::XClassConfig& c,
             const StageProgress& progress)
      : impl(impl), labels(labels), c(c), progress(progress), batch_size(static_cast<size_t>(c.batch_size())),
        rng(c.seed()) {}

  encoder::Encoder::Impl& impl;
  std::span<const int> labels;
  const v1::XClassConfig& c;
  const StageProgress& progress;
  const size_t batch_size;
  std::vector<std::vector<int32_t>> sequences;
  torch::nn::Linear head{nullptr};
  std::unique_ptr<torch_support::FusedAdamW> optimizer;  // of the encoder and the head
  int64_t total = 0;  // steps
  int64_t warmup = 0;
  std::mt19937_64 rng;
  int64_t step = 0;
  double epoch_loss = 0;
};

void TokenizeTruncated(FineTuning& ft, std::span<const std::string> texts) {
  const size_t per_sequence = static_cast<size_t>(ft.c.fine_tune_max_length() - 2);
  for (const std::string& t : texts) {
    encoder::WordPieces pieces = ft.impl.tokenizer.Tokenize(t);
    if (pieces.ids.size() > per_sequence) pieces.ids.resize(per_sequence);
    ft.sequences.push_back(encoder::WrapSequence(ft.impl.tokenizer, pieces.ids));
  }
}

void CreateHead(FineTuning& ft, int classes) {
  ft.head = torch::nn::Linear(ft.impl.config.hidden_size, classes);
  {
    torch::NoGradGuard no_grad;
    ft.head->weight.normal_(0.0, 0.02);
    ft.head->bias.zero_();
  }
  ft.head->to(ft.impl.device);
}

void CreateOptimizer(FineTuning& ft) {
  const v1::XClassConfig& c = ft.c;
  torch_support::AdamWGroup decay, no_decay;
  decay.weight_decay = c.weight_decay();
  for (auto& p : ft.impl.model->named_parameters(true)) {
    (NoDecay(p.key()) ? no_decay : decay).parameters.push_back(p.value());
  }
  decay.parameters.push_back(ft.head->weight);
  no_decay.parameters.push_back(ft.head->bias);
  ft.optimizer = std::make_unique<torch_support::FusedAdamW>(
      std::vector<torch_support::AdamWGroup>{std::move(decay), std::move(no_decay)},
      torch_support::AdamWSettings{.learning_rate = c.learning_rate()});
}

void PlanSchedule(FineTuning& ft) {
  const v1::XClassConfig& c = ft.c;
  const int64_t per_epoch = static_cast<int64_t>((ft.sequences.size() + ft.batch_size - 1) / ft.batch_size);
  ft.total = per_epoch * c.epochs();
  ft.warmup = std::max<int64_t>(1, static_cast<int64_t>(c.warmup_fraction() * ft.total));
}

struct EpochBatches {
  std::vector<size_t> order;   // of the sequences
  std::vector<size_t> starts;  // of the batches in `order`, in the order they train
};

// Shuffled, then sorted by length within windows so that batches pad little.
EpochBatches ShuffleBatches(FineTuning& ft) {
  EpochBatches e;
  std::vector<size_t>& order = e.order;
  order.resize(ft.sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), ft.rng);
  const size_t window = ft.batch_size * kBatchesPerWindow;
  for (size_t b = 0; b < order.size(); b += window) {
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(b),
                     order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), b + window)),
                     [&](size_t x, size_t y) { return ft.sequences[x].size() < ft.sequences[y].size(); });
  }
  for (size_t b = 0; b < order.size(); b += ft.batch_size) e.starts.push_back(b);
  std::shuffle(e.starts.begin(), e.starts.end(), ft.rng);
  return e;
}

void TrainBatch(FineTuning& ft, const std::vector<size_t>& order, size_t start, int epoch) {
  const v1::XClassConfig& c = ft.c;
  encoder::Encoder::Impl& impl = ft.impl;
  const int64_t step = ft.step, total = ft.total, warmup = ft.warmup;
  const double lr = c.learning_rate() * (step < warmup ? (step + 1.0) / warmup
                                                       : std::max(0.0, (total - step) / double(total - warmup + 1)));
  ft.optimizer->set_learning_rate(lr);
  std::vector<const std::vector<int32_t>*> batch;
  std::vector<int64_t> targets;
  for (size_t i = start; i < std::min(order.size(), start + ft.batch_size); ++i) {
    batch.push_back(&ft.sequences[order[i]]);
    targets.push_back(ft.labels[order[i]]);
  }
  encoder::PaddedBatch padded = encoder::PadSequences(batch, impl.tokenizer.pad_id());
  const torch::Tensor mask = padded.mask.to(impl.device);
  encoder::BertOutputs out = impl.model->forward(padded.ids.to(impl.device), mask);
  const torch::Tensor logits = ft.head(encoder::MeanPoolPieces(out.hidden_states.back(), mask));
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, torch::tensor(targets, torch::kInt64).to(impl.device));
  ft.optimizer->ClearGradients();
  loss.backward();
  ft.optimizer->Step(/*max_grad_norm=*/1.0);
  ft.epoch_loss += loss.item<double>() * static_cast<double>(batch.size());
  ++ft.step;
  if (ft.step % 10 == 0) {
    ft.progress(static_cast<double>(ft.step) / total, absl::StrFormat("fine-tuning: step %d/%d, epoch %d, loss %.3f",
                                                                      ft.step, total, epoch + 1, loss.item<double>()));
  }
}

absl::StatusOr<FinalClassifierResult> FineTune(encoder::Encoder& encoder, std::span<const std::string> texts,
                                               std::span<const int> labels, int classes, const v1::XClassConfig& c,
                                               const CancellationToken* cancel, const StageProgress& progress) {
  FineTuning ft(encoder.impl(), labels, c, progress);
  torch::manual_seed(c.seed());
  TokenizeTruncated(ft, texts);
  CreateHead(ft, classes);
  CreateOptimizer(ft);
  PlanSchedule(ft);
  ft.impl.model->train();
  ft.head->train();
  for (int epoch = 0; epoch < c.epochs(); ++epoch) {
    const EpochBatches batches = ShuffleBatches(ft);
    ft.epoch_loss = 0;
    for (size_t start : batches.starts) {
      if (cancel != nullptr) RETURN_IF_ERROR(cancel->Check());
      TrainBatch(ft, batches.order, start, epoch);
    }
    ft.epoch_loss /= static_cast<double>(ft.sequences.size());
  }
  ft.impl.model->eval();
  FinalClassifierResult result;
  result.head = HeadFrom(ft.head->weight, ft.head->bias);
  result.train_loss = ft.epoch_loss;
  return result;
}

absl::StatusOr<FinalClassifierResult> FitFrozenHead(encoder::Encoder& encoder, std::span<const std::string> texts,
                                                    std::span<const int> labels, int classes,
                                                    const v1::XClassConfig& c, const CancellationToken* cancel,
                                                    const StageProgress& progress) {
  std::vector<float> features;
  RETURN_IF_ERROR(encoder::MeanPooledFeatures(encoder, encoder::Views(texts), FeatureOptions(c), &features, cancel, [&](size_t done) {
    progress(0.8 * done / std::max<size_t>(1, texts.size()), absl::StrCat("features of ", done, " documents"));
  }));
  const int64_t n = static_cast<int64_t>(texts.size());
  const int64_t hidden = encoder.config().hidden_size;
  torch::manual_seed(c.seed());
  torch::Tensor x = torch::from_blob(features.data(), {n, hidden}, torch::kFloat32).clone();
  // Standardised features make one learning rate fit every encoder; the scaling is folded into
  // the head afterwards, so serving applies a plain linear layer.
  const torch::Tensor mean = x.mean(0);
  const torch::Tensor scale = x.std(0).clamp_min(1e-6);
  x = (x - mean) / scale;
  const torch::Tensor y = torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()), torch::kInt64);
  torch::Tensor weight = torch::zeros({classes, hidden}, torch::requires_grad());
  torch::Tensor bias = torch::zeros({classes}, torch::requires_grad());
  torch::optim::Adam optimizer({weight, bias}, torch::optim::AdamOptions(c.learning_rate()));
  double loss_value = 0;
  for (int epoch = 0; epoch < c.epochs(); ++epoch) {
    if (cancel != nullptr) RETURN_IF_ERROR(cancel->Check());
    torch::Tensor loss = torch::nn::functional::cross_entropy(torch::nn::functional::linear(x, weight, bias), y) +
                         0.5 * c.weight_decay() * weight.pow(2).sum() / static_cast<double>(n);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    loss_value = loss.item<double>();
  }
  progress(1.0, absl::StrFormat("head fitted, loss %.3f", loss_value));
  torch::NoGradGuard no_grad;
  const torch::Tensor folded_weight = weight / scale.unsqueeze(0);
  const torch::Tensor folded_bias = bias - torch::matmul(folded_weight, mean);
  FinalClassifierResult result;
  result.head = HeadFrom(folded_weight, folded_bias);
  result.train_loss = loss_value;
  return result;
}

}  // namespace

encoder::EncodingOptions FeatureOptions(const v1::XClassConfig& c) {
  encoder::EncodingOptions options;
  options.batch_tokens = c.encode_batch_tokens();
  if (c.final_classifier() == v1::XClassConfig::FINE_TUNE) {
    options.layer = 0;  // the last, which fine-tuning trained
    options.max_length = c.fine_tune_max_length();
    options.truncate = true;
  } else {
    options.layer = c.layer();
    options.max_length = c.max_length();
  }
  return options;
}

absl::StatusOr<FinalClassifierResult> TrainFinalClassifier(encoder::Encoder& encoder, std::span<const std::string> texts,
                                                           std::span<const int> labels, int classes,
                                                           const v1::XClassConfig& resolved,
                                                           const CancellationToken* cancel,
                                                           const StageProgress& progress) {
  if (texts.size() != labels.size() || texts.empty()) {
    return absl::InvalidArgumentError("the final classifier needs one label per document and some documents");
  }
  if (resolved.final_classifier() == v1::XClassConfig::FINE_TUNE) {
    return FineTune(encoder, texts, labels, classes, resolved, cancel, progress);
  }
  return FitFrozenHead(encoder, texts, labels, classes, resolved, cancel, progress);
}

absl::StatusOr<std::string> HeadToSafetensors(const LinearHead& head) {
  std::vector<encoder::SafeTensorToWrite> tensors = {
      {"weight", {head.classes, head.hidden}, head.weight},
      {"bias", {head.classes}, head.bias},
  };
  return encoder::WriteSafetensors(tensors);
}

absl::StatusOr<LinearHead> HeadFromSafetensors(std::string_view bytes) {
  ASSIGN_OR_RETURN(encoder::SafetensorsReader reader, encoder::SafetensorsReader::Parse(bytes));
  const encoder::SafeTensorView* weight = reader.Find("weight");
  const encoder::SafeTensorView* bias = reader.Find("bias");
  if (weight == nullptr || bias == nullptr || weight->shape.size() != 2 || bias->shape.size() != 1 ||
      bias->shape[0] != weight->shape[0]) {
    return absl::DataLossError("head.safetensors needs weight [classes, hidden] and bias [classes]");
  }
  LinearHead head;
  head.classes = static_cast<int>(weight->shape[0]);
  head.hidden = static_cast<int>(weight->shape[1]);
  head.weight = encoder::ToFloat32(*weight);
  head.bias = encoder::ToFloat32(*bias);
  return head;
}

void ApplyHead(const LinearHead& head, std::span<const float> features, size_t rows, std::span<float> logits) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> x(features.data(), static_cast<Eigen::Index>(rows), head.hidden);
  const Eigen::Map<const RowMajor> w(head.weight.data(), head.classes, head.hidden);
  const Eigen::Map<const Eigen::RowVectorXf> b(head.bias.data(), head.classes);
  Eigen::Map<RowMajor> out(logits.data(), static_cast<Eigen::Index>(rows), head.classes);
  out.noalias() = x * w.transpose();
  out.rowwise() += b;
}

}  // namespace textclf::xclass
