#include "core/linear/linear_trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/eval/temperature_scaling.h"
#include "core/linear/linear_features.h"
#include "core/linear/linear_model.h"

namespace textclf::linear {
namespace {

// Fewer training examples than this: no validation split (fixed epochs, l2 and temperature 1).
constexpr size_t kMinForValidation = 50;
// Epochs without a better validation accuracy before training stops.
constexpr int kPatience = 2;
// Naive Bayes' smoothing when there is no validation split to choose it on.
constexpr double kDefaultNaiveBayesAlpha = 0.1;

struct SparseSet {
  std::vector<std::vector<Feature>> rows;
  std::vector<int> labels;
};

SparseSet Extract(const std::vector<std::string>& texts, const std::vector<int>& labels,
                  const std::vector<size_t>& which, const v1::LinearConfig& config) {
  SparseSet set;
  set.rows.resize(which.size());
  set.labels.reserve(which.size());
  FeatureScratch scratch;
  for (size_t i = 0; i < which.size(); ++i) {
    ExtractFeatures(texts[which[i]], config, &scratch, &set.rows[i]);
    set.labels.push_back(labels[which[i]]);
  }
  return set;
}

double Accuracy(const LinearWeights& w, const SparseSet& set) {
  if (set.rows.empty()) return 0;
  std::vector<float> logits(w.classes);
  size_t correct = 0;
  for (size_t i = 0; i < set.rows.size(); ++i) {
    w.Logits(set.rows[i], logits.data());
    const size_t best = static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    correct += static_cast<int>(best) == set.labels[i] ? 1 : 0;
  }
  return static_cast<double>(correct) / set.rows.size();
}

std::vector<float> AllLogits(const LinearWeights& w, const SparseSet& set) {
  std::vector<float> logits(set.rows.size() * w.classes);
  for (size_t i = 0; i < set.rows.size(); ++i) w.Logits(set.rows[i], logits.data() + i * w.classes);
  return logits;
}

struct Fit {
  LinearWeights weights;
  double validation_accuracy = -1;
  int epochs = 0;
};

// Adagrad on the softmax cross-entropy with L2 on the weights a step touches.
absl::StatusOr<Fit> FitOne(const SparseSet& train, const SparseSet& validation, size_t slots, size_t classes,
                           const v1::LinearConfig& config, double l2, TrainContext& ctx, double progress_from,
                           double progress_to) {
  Fit best;
  LinearWeights w(slots, classes);
  std::vector<float> g2_w(slots * classes, 0.0f), g2_b(classes, 0.0f);
  std::vector<float> p(classes);
  std::vector<size_t> order(train.rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(config.seed());
  const float lr = static_cast<float>(config.learning_rate());
  const float decay = static_cast<float>(l2);
  constexpr float kEpsilon = 1e-8f;
  int since_best = 0;
  for (int epoch = 1; epoch <= config.max_epochs(); ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t n = 0; n < order.size(); ++n) {
      if (n % 4096 == 0) RETURN_IF_ERROR(ctx.cancel->Check());
      const auto& row = train.rows[order[n]];
      w.Logits(row, p.data());
      const float top = *std::max_element(p.begin(), p.end());
      float sum = 0;
      for (float& v : p) sum += (v = std::exp(v - top));
      for (float& v : p) v /= sum;
      p[static_cast<size_t>(train.labels[order[n]])] -= 1.0f;  // the gradient of the logits
      for (size_t c = 0; c < classes; ++c) {
        g2_b[c] += p[c] * p[c];
        w.bias[c] -= lr * p[c] / (std::sqrt(g2_b[c]) + kEpsilon);
      }
      for (const Feature& f : row) {
        float* weights = w.w.data() + static_cast<size_t>(f.index) * classes;
        float* g2 = g2_w.data() + static_cast<size_t>(f.index) * classes;
        for (size_t c = 0; c < classes; ++c) {
          const float g = p[c] * f.value + decay * weights[c];
          g2[c] += g * g;
          weights[c] -= lr * g / (std::sqrt(g2[c]) + kEpsilon);
        }
      }
    }
    const double accuracy = validation.rows.empty() ? 0 : Accuracy(w, validation);
    ctx.progress("train", progress_from + (progress_to - progress_from) * epoch / config.max_epochs(),
                 absl::StrCat("l2 ", l2, ", epoch ", epoch, ": validation accuracy ", accuracy));
    if (validation.rows.empty() || accuracy > best.validation_accuracy) {
      best.weights = w;
      best.validation_accuracy = accuracy;
      best.epochs = epoch;
      since_best = 0;
    } else if (++since_best >= kPatience) {
      break;
    }
  }
  return best;
}

// Multinomial naive Bayes on the same feature values (sublinear, L2-normalized term
// frequencies): per class, the log of each feature's smoothed share of the class's feature mass;
// the bias is the class's log prior. Features never seen in training count as unseen in every
// class (the vocabulary is the slots seen, not all 2^bits).
class NaiveBayesCounts {
 public:
  NaiveBayesCounts(const SparseSet& train, size_t slots, size_t classes)
      : slots_(slots), classes_(classes), mass_(slots * classes, 0.0), class_mass_(classes, 0.0), examples_(classes, 0) {
    for (size_t i = 0; i < train.rows.size(); ++i) {
      const size_t c = static_cast<size_t>(train.labels[i]);
      ++examples_[c];
      for (const Feature& f : train.rows[i]) {
        mass_[static_cast<size_t>(f.index) * classes + c] += f.value;
        class_mass_[c] += f.value;
      }
    }
    for (size_t f = 0; f < slots; ++f) {
      for (size_t c = 0; c < classes; ++c) {
        if (mass_[f * classes + c] > 0) {
          ++seen_slots_;
          break;
        }
      }
    }
  }

  LinearWeights Weights(double alpha) const {
    LinearWeights w(slots_, classes_);
    const double vocabulary = static_cast<double>(std::max<size_t>(1, seen_slots_));
    const double total_examples = std::accumulate(examples_.begin(), examples_.end(), 0.0);
    std::vector<double> log_denominator(classes_);
    for (size_t c = 0; c < classes_; ++c) {
      log_denominator[c] = std::log(class_mass_[c] + alpha * vocabulary);
      // Add-one on the prior too, so a class without examples still gets a finite bias.
      w.bias[c] = static_cast<float>(std::log((examples_[c] + 1.0) / (total_examples + classes_)));
    }
    for (size_t i = 0; i < mass_.size(); ++i) {
      w.w[i] = static_cast<float>(std::log(mass_[i] + alpha) - log_denominator[i % classes_]);
    }
    return w;
  }

 private:
  size_t slots_, classes_;
  std::vector<double> mass_;  // slots x classes
  std::vector<double> class_mass_;
  std::vector<int64_t> examples_;
  size_t seen_slots_ = 0;
};

absl::StatusOr<Fit> FitNaiveBayes(const SparseSet& train, const SparseSet& validation, size_t slots, size_t classes,
                                  v1::LinearConfig& config, TrainContext& ctx) {
  ctx.progress("train", 0.05, absl::StrCat("counting the features of ", train.rows.size(), " texts per class"));
  const NaiveBayesCounts counts(train, slots, classes);
  std::vector<double> grid;
  if (config.nb_alpha() > 0) {
    grid = {config.nb_alpha()};
  } else if (validation.rows.empty()) {
    grid = {kDefaultNaiveBayesAlpha};
  } else {
    grid = {0.01, 0.03, 0.1, 0.3, 1.0};
  }
  Fit best;
  for (size_t g = 0; g < grid.size(); ++g) {
    RETURN_IF_ERROR(ctx.cancel->Check());
    Fit fit{counts.Weights(grid[g]), 0, /*epochs=*/1};  // one counting pass
    if (!validation.rows.empty()) fit.validation_accuracy = Accuracy(fit.weights, validation);
    ctx.progress("train", 0.1 + 0.8 * (g + 1) / grid.size(),
                 absl::StrCat("alpha ", grid[g], ": validation accuracy ", fit.validation_accuracy));
    if (best.epochs == 0 || fit.validation_accuracy > best.validation_accuracy) {
      best = std::move(fit);
      config.set_nb_alpha(grid[g]);
    }
  }
  return best;
}

// Logistic regression: Adagrad for each l2 of the grid (or the one given), keeping the best.
absl::StatusOr<Fit> FitLogisticRegression(const SparseSet& train, const SparseSet& validation, size_t slots,
                                          size_t classes, v1::LinearConfig& config, TrainContext& ctx) {
  std::vector<double> grid;
  if (config.l2() > 0) {
    grid = {config.l2()};
  } else if (validation.rows.empty()) {
    grid = {1e-6};
  } else {
    grid = {1e-7, 1e-6, 1e-5};
  }
  Fit best;
  double best_l2 = grid.front();
  for (size_t g = 0; g < grid.size(); ++g) {
    ASSIGN_OR_RETURN(Fit fit, FitOne(train, validation, slots, classes, config, grid[g], ctx,
                                     0.05 + 0.85 * g / grid.size(), 0.05 + 0.85 * (g + 1) / grid.size()));
    if (best.epochs == 0 || fit.validation_accuracy > best.validation_accuracy) {
      best = std::move(fit);
      best_l2 = grid[g];
    }
  }
  config.set_l2(best_l2);
  return best;
}

}  // namespace

absl::StatusOr<v1::LinearConfig> ResolveConfig(v1::LinearConfig c) {
  if (c.hash_bits() == 0) c.set_hash_bits(20);
  if (c.hash_bits() < 10 || c.hash_bits() > 24) {
    return absl::InvalidArgumentError(absl::StrCat("linear.hash_bits must be in [10, 24]; got ", c.hash_bits()));
  }
  if (!c.has_word_bigrams()) c.set_word_bigrams(true);
  if (c.char_ngram_max() != 0 && (c.char_ngram_max() < 3 || c.char_ngram_max() > 8)) {
    return absl::InvalidArgumentError(
        absl::StrCat("linear.char_ngram_max must be 0 (none) or in [3, 8]; got ", c.char_ngram_max()));
  }
  if (c.max_epochs() == 0) c.set_max_epochs(20);
  if (c.max_epochs() < 0 || c.max_epochs() > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("linear.max_epochs must be in [1, 1000]; got ", c.max_epochs()));
  }
  if (c.l2() < 0 || c.l2() > 1 || !std::isfinite(c.l2())) {
    return absl::InvalidArgumentError("linear.l2 must be in [0, 1] (0: chosen on the validation split)");
  }
  if (c.learning_rate() == 0) c.set_learning_rate(0.2);
  if (!(c.learning_rate() > 0 && c.learning_rate() <= 10)) {
    return absl::InvalidArgumentError("linear.learning_rate must be in (0, 10]");
  }
  if (c.validation_fraction() == 0) c.set_validation_fraction(0.1);
  if (!(c.validation_fraction() > 0 && c.validation_fraction() < 0.5)) {
    return absl::InvalidArgumentError("linear.validation_fraction must be in (0, 0.5)");
  }
  if (c.seed() == 0) c.set_seed(1);
  if (!v1::LinearConfig::Method_IsValid(c.method())) {
    return absl::InvalidArgumentError(absl::StrCat("linear.method ", c.method(), " is unknown"));
  }
  if (c.method() == v1::LinearConfig::METHOD_AUTO) c.set_method(v1::LinearConfig::LOGISTIC_REGRESSION);
  if (c.nb_alpha() < 0 || c.nb_alpha() > 10 || !std::isfinite(c.nb_alpha())) {
    return absl::InvalidArgumentError("linear.nb_alpha must be in [0, 10] (0: chosen on the validation split)");
  }
  if (!v1::LinearConfig::WeightStorage_IsValid(c.weight_storage())) {
    return absl::InvalidArgumentError(absl::StrCat("linear.weight_storage ", c.weight_storage(), " is unknown"));
  }
  if (c.weight_storage() == v1::LinearConfig::WEIGHT_STORAGE_AUTO) c.set_weight_storage(v1::LinearConfig::FLOAT32);
  return c;
}

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  ASSIGN_OR_RETURN(v1::LinearConfig config, ResolveConfig(start.config().linear()));
  const size_t classes = data.classes.size();
  const size_t slots = size_t{1} << config.hash_bits();

  // The validation split: a seeded shuffle's first fraction.
  std::vector<size_t> order(data.texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(config.seed());
  std::shuffle(order.begin(), order.end(), rng);
  const size_t held = data.texts.size() >= kMinForValidation
                          ? static_cast<size_t>(config.validation_fraction() * data.texts.size())
                          : 0;
  const std::vector<size_t> validation_ids(order.begin(), order.begin() + held);
  const std::vector<size_t> train_ids(order.begin() + held, order.end());
  ctx.progress("features", 0.0, absl::StrCat("hashing the features of ", data.texts.size(), " texts"));
  const SparseSet train = Extract(data.texts, data.labels, train_ids, config);
  const SparseSet validation = Extract(data.texts, data.labels, validation_ids, config);
  RETURN_IF_ERROR(ctx.cancel->Check());

  absl::StatusOr<Fit> fitted = config.method() == v1::LinearConfig::NAIVE_BAYES
                                   ? FitNaiveBayes(train, validation, slots, classes, config, ctx)
                                   : FitLogisticRegression(train, validation, slots, classes, config, ctx);
  RETURN_IF_ERROR(fitted.status());
  Fit& best = *fitted;

  // From here on, the weights as they are stored (and served): the temperature and the recorded
  // validation accuracy include what float16 or int8 storage costs.
  const std::string bytes = best.weights.Serialize(config.weight_storage());
  ASSIGN_OR_RETURN(const LinearWeights stored, LinearWeights::Parse(bytes, slots, classes, config.weight_storage()));
  if (!validation.rows.empty()) best.validation_accuracy = Accuracy(stored, validation);

  // The temperature, on examples the weights did not learn from.
  double temperature = 1;
  int64_t calibration_examples = 0;
  if (!data.calibration_texts.empty()) {
    std::vector<size_t> all(data.calibration_texts.size());
    std::iota(all.begin(), all.end(), 0);
    const SparseSet calibration = Extract(data.calibration_texts, data.calibration_labels, all, config);
    temperature = eval::FitTemperature(AllLogits(stored, calibration), calibration.labels, classes);
    calibration_examples = static_cast<int64_t>(calibration.rows.size());
  } else if (!validation.rows.empty()) {
    temperature = eval::FitTemperature(AllLogits(stored, validation), validation.labels, classes);
    calibration_examples = static_cast<int64_t>(validation.rows.size());
  }

  ctx.progress("write", 0.95, "writing the weights");
  RETURN_IF_ERROR(WriteFileDurably(ctx.output_dir / WeightsFileName(config.weight_storage()), bytes));
  v1::Manifest manifest;
  manifest.set_family(v1::LINEAR);
  for (const std::string& name : data.classes) manifest.add_classes(name);
  *manifest.mutable_config() = start.config();
  *manifest.mutable_config()->mutable_linear() = config;
  v1::LinearState* state = manifest.mutable_linear();
  *state->mutable_resolved() = config;
  state->set_temperature(temperature);
  state->set_calibration_examples(calibration_examples);
  state->set_epochs(best.epochs);
  state->set_validation_accuracy(std::max(0.0, best.validation_accuracy));
  return manifest;
}

}  // namespace textclf::linear
