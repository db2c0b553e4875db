#include "core/cnn/cnn_trainer.h"

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
#include "core/cnn/training_loop.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"

namespace textclf::cnn {
namespace {

constexpr size_t kMaxValidationExamples = 5000;

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

// What the stages of TrainImageCnn share, in the order they fill it in.
struct ImageTraining {
  ImageTraining(const TrainingSet& data, TrainContext& ctx) : data(data), ctx(ctx) {}

  const TrainingSet& data;
  TrainContext& ctx;
  v1::ImageCnnConfig config;  // resolved; the geometry and normalisation are filled in from the images
  torch::Device device{torch::kCPU};
  torch::Tensor train_images;  // normalised, [N, C, H, W]
  torch::Tensor validation_images;
  std::vector<int> train_labels;
  std::vector<int> validation_labels;
  Architecture arch;
};

// Geometry: every tensor like the first (and like the config, when it names one).
absl::Status SettleGeometry(ImageTraining& it) {
  v1::ImageCnnConfig& config = it.config;
  auto first = GeometryOf(it.data.tensors[0]);
  if (!first.ok()) return absl::InvalidArgumentError(absl::StrCat("example 1: ", std::string(first.status().message())));
  if (config.channels() == 0) config.set_channels(static_cast<int>(first->channels));
  if (config.height() == 0) config.set_height(static_cast<int>(first->height));
  if (config.width() == 0) config.set_width(static_cast<int>(first->width));
  if (config.mean_size() > 0 && config.mean_size() != config.channels()) {
    return absl::InvalidArgumentError(absl::StrCat("image_cnn.mean has ", config.mean_size(), " values for ",
                                                   config.channels(), " channels"));
  }
  return absl::OkStatus();
}

absl::Status CheckImages(const std::vector<v1::Tensor>& tensors, const v1::ImageCnnConfig& geometry_only,
                         const char* split) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (absl::Status s = ValidateImage(tensors[i], geometry_only); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(split, " example ", i + 1, ": ", std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEveryImage(const ImageTraining& it) {
  v1::ImageCnnConfig geometry_only = it.config;
  geometry_only.clear_mean();
  geometry_only.clear_std();
  RETURN_IF_ERROR(CheckImages(it.data.tensors, geometry_only, "training"));
  RETURN_IF_ERROR(CheckImages(it.data.calibration_tensors, geometry_only, "calibration"));
  // EVAL examples are evaluated after publishing: a bad one must fail the job before that.
  return CheckImages(it.data.eval_tensors, geometry_only, "evaluation");
}

// Pixels in [0, 1], [N, C, H, W].
torch::Tensor DecodeImages(const std::vector<const v1::Tensor*>& tensors, const ImageGeometry& g, ThreadPool* pool) {
  torch::Tensor out = torch::empty({static_cast<int64_t>(tensors.size()), g.channels, g.height, g.width}, torch::kFloat);
  float* data_ptr = out.data_ptr<float>();
  pool->ParallelFor(tensors.size(), 256, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      for (int64_t k = 0; k < g.numel(); ++k) data_ptr[static_cast<int64_t>(i) * g.numel() + k] = PixelValue(*tensors[i], k);
    }
  });
  return out;
}

// Validation: the CALIBRATION split, or a held-out part of TRAIN.
void DecodeSplits(ImageTraining& it) {
  const TrainingSet& data = it.data;
  const v1::CnnTraining& t = it.config.training();
  const ImageGeometry g{it.config.channels(), it.config.height(), it.config.width()};
  const bool own_validation = !data.calibration_tensors.empty();
  const std::vector<bool> held = own_validation ? std::vector<bool>(data.tensors.size(), false)
                                                : HoldOut(data.tensors.size(), t.validation_fraction(), t.seed());
  std::vector<const v1::Tensor*> train_tensors, validation_tensors;
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    (held[i] ? validation_tensors : train_tensors).push_back(&data.tensors[i]);
    (held[i] ? it.validation_labels : it.train_labels).push_back(data.labels[i]);
  }
  for (size_t i = 0; i < data.calibration_tensors.size(); ++i) {
    validation_tensors.push_back(&data.calibration_tensors[i]);
    it.validation_labels.push_back(data.calibration_labels[i]);
  }
  it.ctx.progress("prepare", 0.01, absl::StrCat("decoding ", data.tensors.size(), " images"));
  it.train_images = DecodeImages(train_tensors, g, it.ctx.pool);
  it.validation_images = DecodeImages(validation_tensors, g, it.ctx.pool);
}

// The per-channel normalisation, measured on the training images unless given.
void Normalise(ImageTraining& it) {
  v1::ImageCnnConfig& config = it.config;
  if (config.mean_size() == 0) {
    const torch::Tensor mean = it.train_images.mean({0, 2, 3});
    const torch::Tensor std = it.train_images.std({0, 2, 3}).clamp_min(1e-3);
    for (int c = 0; c < config.channels(); ++c) {
      config.add_mean(mean[c].item<float>());
      config.add_std(std[c].item<float>());
    }
  }
  const torch::Tensor mean = torch::tensor(std::vector<float>(config.mean().begin(), config.mean().end())).view({1, -1, 1, 1});
  const torch::Tensor std = torch::tensor(std::vector<float>(config.std().begin(), config.std().end())).view({1, -1, 1, 1});
  it.train_images.sub_(mean).div_(std);
  it.validation_images.sub_(mean).div_(std);
}

// The imported checkpoint's weights, or fresh seeded ones.
absl::StatusOr<TensorMap> InitialWeights(const ImageTraining& it) {
  const v1::ImageCnnConfig& config = it.config;
  const int64_t classes = static_cast<int64_t>(it.data.classes.size());
  if (config.init_checkpoint().empty()) {
    if (config.training().epochs() < 0) {
      return absl::InvalidArgumentError("image_cnn.training.epochs < 0 needs an init_checkpoint");
    }
    return it.arch.Initialize(classes, 0, config.training().seed());
  }
  it.ctx.progress("import", 0.03, absl::StrCat("reading ", config.init_checkpoint()));
  ASSIGN_OR_RETURN(ImportedResNet imported, ReadResNetCheckpoint(config.init_checkpoint()));
  if (imported.depth != config.depth() || imported.channels != config.channels() || imported.classes != classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.init_checkpoint(), " is a ResNet-", imported.depth, " over ", imported.channels, " channels with ",
        imported.classes, " classes; this model is a ResNet-", config.depth(), " over ", config.channels(),
        " channels with ", classes, " classes"));
  }
  return std::move(imported.tensors);
}

absl::StatusOr<v1::Manifest> WriteImageModel(const ImageTraining& it, const v1::TrainStart& start,
                                             const LoopResult& loop) {
  it.ctx.progress("write", 0.92, "writing the model");
  CnnModelParts parts;
  parts.family = v1::IMAGE_CNN;
  parts.classes = it.data.classes;
  parts.config = start.config();
  *parts.config.mutable_image_cnn() = it.config;
  parts.state = StateOf(loop, it.device);
  if (!it.config.init_checkpoint().empty()) {
    parts.state.set_imported_from(std::filesystem::path(it.config.init_checkpoint()).filename().string());
  }
  parts.tensors = ToArchive(loop.best);
  return WriteCnnModel(parts, it.ctx.output_dir);
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
  ImageTraining it(data, ctx);
  ASSIGN_OR_RETURN(it.config, ResolveImageCnnConfig(start.config().image_cnn()));
  const v1::CnnTraining& t = it.config.training();
  ASSIGN_OR_RETURN(it.device, ChooseDevice(t));
  RETURN_IF_ERROR(SettleGeometry(it));
  RETURN_IF_ERROR(CheckEveryImage(it));
  DecodeSplits(it);
  Normalise(it);
  ImageExamples train(it.train_images, it.train_labels, it.config.shift_pixels(), it.config.flip());
  ImageExamples validation(it.validation_images, it.validation_labels, 0, false);
  it.arch.family = v1::IMAGE_CNN;
  it.arch.image = it.config;
  ASSIGN_OR_RETURN(TensorMap initial, InitialWeights(it));
  ctx.progress("train", 0.05, absl::StrCat("training a ResNet-", it.config.depth(), " on ", train.size(), " images (",
                                           validation.size(), " validate) on ", it.device.str()));
  ASSIGN_OR_RETURN(LoopResult loop, RunTraining(it.arch, std::move(initial), train, validation, t, it.device, ctx));
  return WriteImageModel(it, start, loop);
}

}  // namespace textclf::cnn
