#include "core/cnn/cnn_config.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

struct TrainingDefaults {
  int epochs;
  int batch_size;
  v1::CnnTraining::Optimizer optimizer;
  double weight_decay;
  double adam_learning_rate;  // the default step of ADAM for this family (SGD: 0.1)
};

absl::StatusOr<v1::CnnTraining> ResolveTraining(v1::CnnTraining t, const TrainingDefaults& d,
                                                const std::string& prefix) {
  if (t.epochs() == 0) t.set_epochs(d.epochs);
  if (t.batch_size() == 0) t.set_batch_size(d.batch_size);
  if (t.optimizer() == v1::CnnTraining::OPTIMIZER_AUTO) t.set_optimizer(d.optimizer);
  if (t.learning_rate() == 0) t.set_learning_rate(t.optimizer() == v1::CnnTraining::SGD ? 0.1 : d.adam_learning_rate);
  if (t.weight_decay() == 0) t.set_weight_decay(d.weight_decay);
  if (t.patience() == 0) t.set_patience(2);
  if (t.validation_fraction() == 0) t.set_validation_fraction(0.1);
  if (t.seed() == 0) t.set_seed(1);
  if (t.epochs() > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "training.epochs is ", t.epochs(), "; use at most 10000"));
  }
  if (t.batch_size() < 1 || t.batch_size() > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "training.batch_size must be in [1, 65536], got ", t.batch_size()));
  }
  if (!(t.learning_rate() > 0) || t.learning_rate() > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "training.learning_rate must be in (0, 10], got ", t.learning_rate()));
  }
  if (t.weight_decay() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "training.weight_decay must not be negative"));
  }
  if (t.validation_fraction() < 0 || t.validation_fraction() >= 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "training.validation_fraction must be in [0, 1), got ", t.validation_fraction()));
  }
  if (t.max_batches_per_epoch() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "training.max_batches_per_epoch must not be negative"));
  }
  return t;
}

}  // namespace

absl::StatusOr<v1::TextCnnConfig> ResolveTextCnnConfig(const v1::TextCnnConfig& config) {
  v1::TextCnnConfig c = config;
  if (c.embedding_dim() == 0) c.set_embedding_dim(128);
  if (c.max_vocabulary() == 0) c.set_max_vocabulary(50000);
  if (c.min_count() == 0) c.set_min_count(2);
  if (c.filter_widths_size() == 0) {
    for (int w : {3, 4, 5}) c.add_filter_widths(w);
  }
  if (c.feature_maps() == 0) c.set_feature_maps(100);
  if (c.dropout() == 0) c.set_dropout(0.5);
  if (c.dropout() < 0) c.set_dropout(0);
  if (c.max_tokens() == 0) c.set_max_tokens(100);
  if (c.embedding_dim() < 1 || c.embedding_dim() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("text_cnn.embedding_dim must be in [1, 4096], got ", c.embedding_dim()));
  }
  if (c.max_vocabulary() < 1 || c.max_vocabulary() > 5000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("text_cnn.max_vocabulary must be in [1, 5000000], got ", c.max_vocabulary()));
  }
  if (c.min_count() < 1) return absl::InvalidArgumentError("text_cnn.min_count must be at least 1");
  int widest = 0;
  for (int w : c.filter_widths()) {
    if (w < 1 || w > 32) {
      return absl::InvalidArgumentError(absl::StrCat("text_cnn.filter_widths must be in [1, 32], got ", w));
    }
    widest = std::max(widest, w);
  }
  if (c.feature_maps() < 1 || c.feature_maps() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("text_cnn.feature_maps must be in [1, 4096], got ", c.feature_maps()));
  }
  if (c.dropout() >= 1) return absl::InvalidArgumentError(absl::StrCat("text_cnn.dropout must be below 1, got ", c.dropout()));
  if (c.max_tokens() < widest || c.max_tokens() > 100000) {
    return absl::InvalidArgumentError(absl::StrCat("text_cnn.max_tokens must be in [widest filter = ", widest,
                                                   ", 100000], got ", c.max_tokens()));
  }
  ASSIGN_OR_RETURN(*c.mutable_training(),
                   // Adam at 1e-2: the usual 1e-3 barely moves randomly initialised word vectors in
                   // a few epochs of a small data set (a 3-topic corpus stays at chance after 40
                   // steps at 1e-3 and is learnt at 1e-2); the cosine decay brings it down.
                   ResolveTraining(c.training(), {5, 50, v1::CnnTraining::ADAM, 0.0, 1e-2}, "text_cnn."));
  return c;
}

absl::StatusOr<v1::ImageCnnConfig> ResolveImageCnnConfig(const v1::ImageCnnConfig& config) {
  v1::ImageCnnConfig c = config;
  if (c.depth() == 0) c.set_depth(20);
  if (c.shift_pixels() == 0) c.set_shift_pixels(2);
  if (c.shift_pixels() < 0) c.set_shift_pixels(0);
  if (c.depth() < 8 || (c.depth() - 2) % 6 != 0 || c.depth() > 1202) {
    return absl::InvalidArgumentError(
        absl::StrCat("image_cnn.depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, ...), got ", c.depth()));
  }
  if (c.channels() < 0 || c.channels() > 64 || c.height() < 0 || c.width() < 0 || c.height() > 4096 ||
      c.width() > 4096) {
    return absl::InvalidArgumentError("image_cnn.channels must be in [1, 64] and height, width in [1, 4096]");
  }
  if (c.mean_size() != c.std_size()) {
    return absl::InvalidArgumentError(absl::StrCat("image_cnn.mean has ", c.mean_size(), " values but std has ",
                                                   c.std_size(), "; give one of each per channel"));
  }
  if (c.channels() > 0 && c.mean_size() > 0 && c.mean_size() != c.channels()) {
    return absl::InvalidArgumentError(absl::StrCat("image_cnn.mean has ", c.mean_size(), " values for ",
                                                   c.channels(), " channels"));
  }
  for (float s : c.std()) {
    if (!(s > 0)) return absl::InvalidArgumentError("image_cnn.std values must be positive");
  }
  if (c.shift_pixels() > 16) {
    return absl::InvalidArgumentError(absl::StrCat("image_cnn.shift_pixels must be at most 16, got ", c.shift_pixels()));
  }
  ASSIGN_OR_RETURN(*c.mutable_training(),
                   ResolveTraining(c.training(), {15, 128, v1::CnnTraining::SGD, 5e-4, 1e-3}, "image_cnn."));
  return c;
}

}  // namespace textclf::cnn
