#include "core/cnn/cnn_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/cnn/checkpoint_import.h"
#include "core/cnn/cnn_config.h"
#include "core/cnn/cnn_model.h"
#include "core/cnn/cnn_network.h"
#include "core/cnn/image_input.h"
#include "core/cnn/model_writer.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"

namespace textclf::cnn {
namespace {

constexpr size_t kMaxValidationExamples = 5000;
constexpr int64_t kEvalBatch = 256;

// A labelled set the training loop draws batches from: ids or images, encoded once.
class Examples {
 public:
  virtual ~Examples() = default;
  virtual size_t size() const = 0;
  virtual int label(size_t i) const = 0;
  // The network input for examples `rows`, on the CPU; `augment` for training batches.
  virtual torch::Tensor Batch(std::span<const size_t> rows, bool augment, std::mt19937_64& rng) const = 0;
};

class TextExamples final : public Examples {
 public:
  TextExamples(std::vector<std::vector<int64_t>> ids, std::vector<int> labels, int widest)
      : ids_(std::move(ids)), labels_(std::move(labels)), widest_(widest) {}
  size_t size() const override { return ids_.size(); }
  int label(size_t i) const override { return labels_[i]; }
  torch::Tensor Batch(std::span<const size_t> rows, bool, std::mt19937_64&) const override {
    int64_t length = widest_;
    for (size_t r : rows) length = std::max<int64_t>(length, static_cast<int64_t>(ids_[r].size()));
    torch::Tensor out = torch::zeros({static_cast<int64_t>(rows.size()), length}, torch::kLong);
    int64_t* data = out.data_ptr<int64_t>();
    for (size_t k = 0; k < rows.size(); ++k) {
      std::copy(ids_[rows[k]].begin(), ids_[rows[k]].end(), data + static_cast<int64_t>(k) * length);
    }
    return out;
  }

 private:
  std::vector<std::vector<int64_t>> ids_;
  std::vector<int> labels_;
  int widest_;
};

class ImageExamples final : public Examples {
 public:
  ImageExamples(torch::Tensor images, std::vector<int> labels, int shift, bool flip)
      : images_(std::move(images)), labels_(std::move(labels)), shift_(shift), flip_(flip) {}
  size_t size() const override { return labels_.size(); }
  int label(size_t i) const override { return labels_[i]; }
  torch::Tensor Batch(std::span<const size_t> rows, bool augment, std::mt19937_64& rng) const override {
    std::vector<int64_t> index(rows.begin(), rows.end());
    torch::Tensor batch = images_.index_select(0, torch::tensor(index, torch::kLong));
    if (!augment || (shift_ == 0 && !flip_)) return batch;
    // Random shifts with zero padding (zero is the mean after normalisation), optional flips.
    const int64_t h = batch.size(2), w = batch.size(3);
    torch::Tensor padded = torch::constant_pad_nd(batch, {shift_, shift_, shift_, shift_}, 0);
    torch::Tensor out = torch::empty_like(batch);
    std::uniform_int_distribution<int> offset(0, 2 * shift_);
    std::bernoulli_distribution coin(0.5);
    for (int64_t k = 0; k < batch.size(0); ++k) {
      torch::Tensor crop = padded[k].narrow(1, offset(rng), h).narrow(2, offset(rng), w);
      if (flip_ && coin(rng)) crop = crop.flip({2});
      out[k].copy_(crop);
    }
    return out;
  }

 private:
  torch::Tensor images_;  // [N, C, H, W], normalised
  std::vector<int> labels_;
  int shift_;
  bool flip_;
};

absl::StatusOr<torch::Device> ChooseDevice(const v1::CnnTraining& t) {
  const bool cuda = torch::cuda::is_available();
  if (t.device() == v1::CnnTraining::DEVICE_CUDA && !cuda) {
    return absl::FailedPreconditionError("training.device is DEVICE_CUDA but this server sees no CUDA device");
  }
  if (t.device() == v1::CnnTraining::DEVICE_CPU || !cuda) return torch::Device(torch::kCPU);
  return torch::Device(torch::kCUDA, 0);
}

// Indices of the examples held out for validation: a seeded random subset.
std::vector<bool> HoldOut(size_t n, double fraction, uint64_t seed) {
  std::vector<bool> held(n, false);
  const size_t k = std::min(kMaxValidationExamples, static_cast<size_t>(std::floor(fraction * static_cast<double>(n))));
  if (k == 0 || n < 20) return held;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i = 0; i < k; ++i) held[order[i]] = true;
  return held;
}

double Accuracy(const Architecture& arch, const TensorMap& p, const Examples& data, const torch::Device& device) {
  if (data.size() == 0) return 0;
  torch::NoGradGuard no_grad;
  std::mt19937_64 unused;
  int64_t correct = 0;
  std::vector<size_t> rows;
  for (size_t begin = 0; begin < data.size(); begin += kEvalBatch) {
    rows.clear();
    for (size_t i = begin; i < std::min(data.size(), begin + kEvalBatch); ++i) rows.push_back(i);
    torch::Tensor predicted = arch.Forward(p, data.Batch(rows, false, unused).to(device), {}).argmax(1).to(torch::kCPU);
    const int64_t* pr = predicted.data_ptr<int64_t>();
    for (size_t k = 0; k < rows.size(); ++k) correct += pr[k] == data.label(rows[k]) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

void SetLearningRate(torch::optim::Optimizer& optimizer, v1::CnnTraining::Optimizer kind, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (kind == v1::CnnTraining::SGD) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    } else {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
  }
}

struct LoopResult {
  TensorMap best;  // on the CPU
  std::vector<v1::EpochRecord> epochs;
  int best_epoch = 0;
};

// The training loop shared by both families. `params` start on the CPU.
absl::StatusOr<LoopResult> RunTraining(const Architecture& arch, TensorMap params, const Examples& train,
                                       const Examples& validation, const v1::CnnTraining& t,
                                       const torch::Device& device, TrainContext& ctx) {
  LoopResult result;
  if (t.epochs() <= 0) {
    result.best = std::move(params);
    return result;
  }
  params = MoveTo(params, device);
  std::vector<torch::Tensor> trainable;
  for (auto& [name, tensor] : params) {
    if (IsTrainable(name)) {
      tensor.set_requires_grad(true);
      trainable.push_back(tensor);
    }
  }
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (t.optimizer() == v1::CnnTraining::SGD) {
    optimizer = std::make_unique<torch::optim::SGD>(
        trainable, torch::optim::SGDOptions(t.learning_rate()).momentum(0.9).nesterov(true).weight_decay(t.weight_decay()));
  } else {
    optimizer = std::make_unique<torch::optim::Adam>(
        trainable, torch::optim::AdamOptions(t.learning_rate()).weight_decay(t.weight_decay()));
  }
  at::Generator generator = at::detail::createCPUGenerator(t.seed());
  std::mt19937_64 rng(t.seed());
  const size_t batch_size = static_cast<size_t>(t.batch_size());
  size_t batches = (train.size() + batch_size - 1) / batch_size;
  if (t.max_batches_per_epoch() > 0) batches = std::min(batches, static_cast<size_t>(t.max_batches_per_epoch()));
  const double total_steps = static_cast<double>(batches) * t.epochs();
  std::vector<size_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  double best_accuracy = -1;
  int since_best = 0;
  int64_t step = 0;
  ForwardOptions training;
  training.training = true;
  training.generator = &generator;
  for (int epoch = 1; epoch <= t.epochs(); ++epoch) {
    Stopwatch watch;
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (size_t b = 0; b < batches; ++b) {
      RETURN_IF_ERROR(ctx.cancel->Check());
      std::span<const size_t> rows(order.data() + b * batch_size, std::min(batch_size, order.size() - b * batch_size));
      std::vector<int64_t> labels;
      for (size_t r : rows) labels.push_back(train.label(r));
      const double lr = 0.5 * t.learning_rate() * (1 + std::cos(M_PI * static_cast<double>(step) / total_steps));
      SetLearningRate(*optimizer, t.optimizer(), lr);
      torch::Tensor input = train.Batch(rows, /*augment=*/true, rng).to(device);
      torch::Tensor target = torch::tensor(labels, torch::kLong).to(device);
      torch::Tensor logits = arch.Forward(params, input, training);
      torch::Tensor loss = torch::nn::functional::cross_entropy(logits, target);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      ++step;
      const double batch_loss = loss.item<double>();
      if (!std::isfinite(batch_loss)) {
        return absl::FailedPreconditionError(absl::StrCat("the training loss diverged in epoch ", epoch,
                                                          "; lower training.learning_rate (now ", t.learning_rate(), ")"));
      }
      loss_sum += batch_loss * static_cast<double>(rows.size());
      correct += logits.argmax(1).eq(target).sum().item<int64_t>();
      seen += static_cast<int64_t>(rows.size());
      if (batches >= 20 && (b + 1) % (batches / 10) == 0 && b + 1 < batches) {
        ctx.progress("train", 0.05 + 0.85 * static_cast<double>(step) / total_steps,
                     absl::StrFormat("epoch %d/%d: %d/%d batches, loss %.4f", epoch, t.epochs(), b + 1, batches,
                                     loss_sum / static_cast<double>(seen)));
      }
    }
    const double validation_accuracy = Accuracy(arch, params, validation, device);
    v1::EpochRecord record;
    record.set_epoch(epoch);
    record.set_loss(seen > 0 ? loss_sum / static_cast<double>(seen) : 0);
    record.set_train_accuracy(seen > 0 ? static_cast<double>(correct) / static_cast<double>(seen) : 0);
    record.set_validation_accuracy(validation_accuracy);
    record.set_seconds(watch.seconds());
    result.epochs.push_back(record);
    std::string message = absl::StrFormat("epoch %d/%d: loss %.4f, train accuracy %.4f", epoch, t.epochs(), record.loss(),
                                          record.train_accuracy());
    if (validation.size() > 0) absl::StrAppend(&message, absl::StrFormat(", validation accuracy %.4f", validation_accuracy));
    absl::StrAppend(&message, absl::StrFormat(" (%.1f s)", record.seconds()));
    // Without a validation split every epoch counts as the best so far: the last one is kept.
    if (validation.size() == 0 || validation_accuracy > best_accuracy) {
      best_accuracy = validation_accuracy;
      result.best = CloneToCpu(params);
      result.best_epoch = epoch;
      since_best = 0;
    } else {
      ++since_best;
    }
    ctx.progress("epoch", 0.05 + 0.85 * static_cast<double>(step) / total_steps, message);
    if (t.patience() >= 0 && validation.size() > 0 && since_best >= t.patience() && epoch < t.epochs()) {
      ctx.progress("epoch", 0.9, absl::StrCat("early stop: no better validation accuracy for ", since_best,
                                              " epochs; keeping epoch ", result.best_epoch));
      break;
    }
  }
  for (auto& [name, tensor] : result.best) tensor.set_requires_grad(false);
  return result;
}

absl::Status CheckLabels(const TrainingSet& data) {
  if (data.classes.size() < 2) return absl::InvalidArgumentError("a CNN needs at least two classes");
  for (int label : data.labels) {
    if (label < 0) return absl::InvalidArgumentError("every training example of a CNN needs a label");
  }
  return absl::OkStatus();
}

v1::CnnState StateOf(const LoopResult& loop, const torch::Device& device) {
  v1::CnnState state;
  for (const auto& e : loop.epochs) *state.add_epochs() = e;
  state.set_best_epoch(loop.best_epoch);
  state.set_temperature(1.0);
  state.set_device(device.str());
  return state;
}

}  // namespace

absl::StatusOr<v1::Manifest> TrainTextCnn(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  RETURN_IF_ERROR(CheckLabels(data));
  if (data.texts.empty()) return absl::InvalidArgumentError("TEXT_CNN trains on texts; none were sent");
  ASSIGN_OR_RETURN(v1::TextCnnConfig config, ResolveTextCnnConfig(start.config().text_cnn()));
  const v1::CnnTraining& t = config.training();
  if (t.epochs() < 0) return absl::InvalidArgumentError("text_cnn.training.epochs must be positive");
  ASSIGN_OR_RETURN(torch::Device device, ChooseDevice(t));

  // Validation: the CALIBRATION split, or a held-out part of TRAIN.
  const bool own_validation = !data.calibration_texts.empty();
  const std::vector<bool> held = own_validation ? std::vector<bool>(data.texts.size(), false)
                                                : HoldOut(data.texts.size(), t.validation_fraction(), t.seed());
  std::vector<std::string> train_texts;
  std::vector<int> train_labels, validation_labels;
  std::vector<const std::string*> validation_texts;
  for (size_t i = 0; i < data.texts.size(); ++i) {
    if (held[i]) {
      validation_texts.push_back(&data.texts[i]);
      validation_labels.push_back(data.labels[i]);
    } else {
      train_texts.push_back(data.texts[i]);
      train_labels.push_back(data.labels[i]);
    }
  }
  if (own_validation) {
    for (size_t i = 0; i < data.calibration_texts.size(); ++i) {
      validation_texts.push_back(&data.calibration_texts[i]);
      validation_labels.push_back(data.calibration_labels[i]);
    }
  }
  ctx.progress("vocabulary", 0.01, absl::StrCat("building the vocabulary of ", train_texts.size(), " texts"));
  Vocabulary vocabulary = Vocabulary::Build(train_texts, config.max_vocabulary(), config.min_count());
  if (vocabulary.size() <= 2) {
    return absl::InvalidArgumentError(absl::StrCat("no word occurs text_cnn.min_count = ", config.min_count(),
                                                   " times in the training texts; lower min_count or send more text"));
  }
  int widest = 1;
  for (int w : config.filter_widths()) widest = std::max(widest, w);
  auto encode = [&](auto get, size_t n) {
    std::vector<std::vector<int64_t>> ids(n);
    ctx.pool->ParallelFor(n, 1024, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) EncodeText(vocabulary, config, get(i), &ids[i]);
    });
    return ids;
  };
  TextExamples train(encode([&](size_t i) -> const std::string& { return train_texts[i]; }, train_texts.size()),
                     train_labels, widest);
  TextExamples validation(encode([&](size_t i) -> const std::string& { return *validation_texts[i]; }, validation_texts.size()),
                          validation_labels, widest);
  train_texts.clear();

  Architecture arch;
  arch.family = v1::TEXT_CNN;
  arch.text = config;
  const int64_t classes = static_cast<int64_t>(data.classes.size());
  ctx.progress("train", 0.05, absl::StrCat("training on ", train.size(), " texts (", validation.size(),
                                           " validate), vocabulary ", vocabulary.size() - 2, " words, on ", device.str()));
  ASSIGN_OR_RETURN(LoopResult loop, RunTraining(arch, arch.Initialize(classes, vocabulary.size(), t.seed()), train,
                                                validation, t, device, ctx));
  ctx.progress("write", 0.92, "writing the model");
  CnnModelParts parts;
  parts.family = v1::TEXT_CNN;
  parts.classes = data.classes;
  parts.config = start.config();
  *parts.config.mutable_text_cnn() = config;
  parts.state = StateOf(loop, device);
  parts.tensors = ToArchive(loop.best);
  parts.vocabulary = &vocabulary;
  return WriteCnnModel(parts, ctx.output_dir);
}

absl::StatusOr<v1::Manifest> TrainImageCnn(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  RETURN_IF_ERROR(CheckLabels(data));
  if (data.tensors.empty()) return absl::InvalidArgumentError("IMAGE_CNN trains on tensors; none were sent");
  ASSIGN_OR_RETURN(v1::ImageCnnConfig config, ResolveImageCnnConfig(start.config().image_cnn()));
  const v1::CnnTraining& t = config.training();
  ASSIGN_OR_RETURN(torch::Device device, ChooseDevice(t));

  // Geometry: every tensor like the first (and like the config, when it names one).
  auto first = GeometryOf(data.tensors[0]);
  if (!first.ok()) return absl::InvalidArgumentError(absl::StrCat("example 1: ", std::string(first.status().message())));
  if (config.channels() == 0) config.set_channels(static_cast<int>(first->channels));
  if (config.height() == 0) config.set_height(static_cast<int>(first->height));
  if (config.width() == 0) config.set_width(static_cast<int>(first->width));
  if (config.mean_size() > 0 && config.mean_size() != config.channels()) {
    return absl::InvalidArgumentError(absl::StrCat("image_cnn.mean has ", config.mean_size(), " values for ",
                                                   config.channels(), " channels"));
  }
  v1::ImageCnnConfig geometry_only = config;
  geometry_only.clear_mean();
  geometry_only.clear_std();
  auto check_all = [&](const std::vector<v1::Tensor>& tensors, const char* split) -> absl::Status {
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (absl::Status s = ValidateImage(tensors[i], geometry_only); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(split, " example ", i + 1, ": ", std::string(s.message())));
      }
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(check_all(data.tensors, "training"));
  RETURN_IF_ERROR(check_all(data.calibration_tensors, "calibration"));
  // EVAL examples are evaluated after publishing: a bad one must fail the job before that.
  RETURN_IF_ERROR(check_all(data.eval_tensors, "evaluation"));

  // Pixels in [0, 1], then the per-channel normalisation (measured on the training images unless given).
  const ImageGeometry g{config.channels(), config.height(), config.width()};
  auto decode = [&](const std::vector<const v1::Tensor*>& tensors) {
    torch::Tensor out = torch::empty({static_cast<int64_t>(tensors.size()), g.channels, g.height, g.width}, torch::kFloat);
    float* data_ptr = out.data_ptr<float>();
    ctx.pool->ParallelFor(tensors.size(), 256, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        for (int64_t k = 0; k < g.numel(); ++k) data_ptr[static_cast<int64_t>(i) * g.numel() + k] = PixelValue(*tensors[i], k);
      }
    });
    return out;
  };
  const bool own_validation = !data.calibration_tensors.empty();
  const std::vector<bool> held = own_validation ? std::vector<bool>(data.tensors.size(), false)
                                                : HoldOut(data.tensors.size(), t.validation_fraction(), t.seed());
  std::vector<const v1::Tensor*> train_tensors, validation_tensors;
  std::vector<int> train_labels, validation_labels;
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    (held[i] ? validation_tensors : train_tensors).push_back(&data.tensors[i]);
    (held[i] ? validation_labels : train_labels).push_back(data.labels[i]);
  }
  for (size_t i = 0; i < data.calibration_tensors.size(); ++i) {
    validation_tensors.push_back(&data.calibration_tensors[i]);
    validation_labels.push_back(data.calibration_labels[i]);
  }
  ctx.progress("prepare", 0.01, absl::StrCat("decoding ", data.tensors.size(), " images"));
  torch::Tensor train_images = decode(train_tensors);
  torch::Tensor validation_images = decode(validation_tensors);
  if (config.mean_size() == 0) {
    const torch::Tensor mean = train_images.mean({0, 2, 3});
    const torch::Tensor std = train_images.std({0, 2, 3}).clamp_min(1e-3);
    for (int c = 0; c < config.channels(); ++c) {
      config.add_mean(mean[c].item<float>());
      config.add_std(std[c].item<float>());
    }
  }
  const torch::Tensor mean = torch::tensor(std::vector<float>(config.mean().begin(), config.mean().end())).view({1, -1, 1, 1});
  const torch::Tensor std = torch::tensor(std::vector<float>(config.std().begin(), config.std().end())).view({1, -1, 1, 1});
  train_images.sub_(mean).div_(std);
  validation_images.sub_(mean).div_(std);
  ImageExamples train(train_images, train_labels, config.shift_pixels(), config.flip());
  ImageExamples validation(validation_images, validation_labels, 0, false);

  Architecture arch;
  arch.family = v1::IMAGE_CNN;
  arch.image = config;
  const int64_t classes = static_cast<int64_t>(data.classes.size());
  TensorMap initial;
  if (!config.init_checkpoint().empty()) {
    ctx.progress("import", 0.03, absl::StrCat("reading ", config.init_checkpoint()));
    ASSIGN_OR_RETURN(ImportedResNet imported, ReadResNetCheckpoint(config.init_checkpoint()));
    if (imported.depth != config.depth() || imported.channels != config.channels() || imported.classes != classes) {
      return absl::InvalidArgumentError(absl::StrCat(
          config.init_checkpoint(), " is a ResNet-", imported.depth, " over ", imported.channels, " channels with ",
          imported.classes, " classes; this model is a ResNet-", config.depth(), " over ", config.channels(),
          " channels with ", classes, " classes"));
    }
    initial = std::move(imported.tensors);
  } else {
    if (t.epochs() < 0) return absl::InvalidArgumentError("image_cnn.training.epochs < 0 needs an init_checkpoint");
    initial = arch.Initialize(classes, 0, t.seed());
  }
  ctx.progress("train", 0.05, absl::StrCat("training a ResNet-", config.depth(), " on ", train.size(), " images (",
                                           validation.size(), " validate) on ", device.str()));
  ASSIGN_OR_RETURN(LoopResult loop, RunTraining(arch, std::move(initial), train, validation, t, device, ctx));
  ctx.progress("write", 0.92, "writing the model");
  CnnModelParts parts;
  parts.family = v1::IMAGE_CNN;
  parts.classes = data.classes;
  parts.config = start.config();
  *parts.config.mutable_image_cnn() = config;
  parts.state = StateOf(loop, device);
  if (!config.init_checkpoint().empty()) {
    parts.state.set_imported_from(std::filesystem::path(config.init_checkpoint()).filename().string());
  }
  parts.tensors = ToArchive(loop.best);
  return WriteCnnModel(parts, ctx.output_dir);
}

}  // namespace textclf::cnn
