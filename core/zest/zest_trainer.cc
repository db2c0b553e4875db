#include "core/zest/zest_trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/common/thread_pool.h"
#include "core/zest/compressor_bank.h"
#include "core/zest/dictionary_builder.h"
#include "core/zest/preprocessor.h"
#include "core/eval/temperature_scaling.h"
#include "core/zest/zest_config.h"
#include "core/zest/zest_model.h"

namespace textclf::zest {
namespace {

// Temperatures used when there is nothing to fit them on: binary scores are differences of
// compression rates (typically within +-0.3), multi-class affinities differ by a few hundredths.
constexpr double kDefaultBinaryTemperature = 0.05;
constexpr double kDefaultMulticlassTemperature = 0.01;
constexpr size_t kMinExamplesForHoldOut = 1000;
// One temperature needs few examples; more would only slow training down.
constexpr size_t kMaxHeldOut = 400;

// Every k-th example of each class, k = max(1 / fraction, n / kMaxHeldOut): deterministic and
// stratified.
std::vector<bool> CalibrationHoldOut(const std::vector<std::vector<size_t>>& members, size_t n, double fraction) {
  std::vector<bool> held(n, false);
  const size_t k = std::max<size_t>(static_cast<size_t>(std::lround(1.0 / fraction)), (n + kMaxHeldOut - 1) / kMaxHeldOut);
  for (const auto& indices : members) {
    for (size_t j = k / 2; j < indices.size(); j += k) held[indices[j]] = true;
  }
  return held;
}

// Fits the temperature on held-out texts with the freshly built dictionaries.
absl::StatusOr<double> FitTemperatureOn(const v1::Manifest& manifest,
                                        const std::vector<std::vector<TrainedDictionary>>& dicts,
                                        const std::vector<std::string>& texts, const std::vector<int>& labels,
                                        ThreadPool* pool) {
  ModelFiles files;
  const v1::ZestState& state = manifest.zest();
  for (int c = 0; c < state.classes_size(); ++c) {
    for (int j = 0; j < state.classes(c).dictionaries_size(); ++j) {
      files.contents[state.classes(c).dictionaries(j).file()] = dicts[c][j].content;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, ZestModel::Load(manifest, files));
  std::vector<ModelInput> inputs;
  for (const std::string& t : texts) inputs.push_back(ModelInput{t, nullptr});
  std::vector<float> logits;
  RETURN_IF_ERROR(static_cast<const ZestModel&>(*model).ComputeLogits(inputs, Device{Device::Kind::kCpu, 0, pool}, &logits));
  return eval::FitTemperature(logits, labels, model->num_classes());
}

absl::StatusOr<int> ResolvePositiveClass(const v1::ZestConfig& config,
                                         const std::vector<std::string>& classes) {
  if (config.positive_class().empty()) return 1;
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] == config.positive_class()) return static_cast<int>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat("zest.positive_class \"", config.positive_class(),
                                                 "\" is not one of the classes"));
}

// Mean compression rate of (a deterministic subset of) samples under one fresh dictionary.
double MeanRate(const SampleSet& samples, const std::string& dictionary, int level,
                int max_probes) {
  auto bank = CompressorBank::Create({{dictionary}}, level);
  if (!bank.ok()) return 1.0;
  const size_t stride = std::max<size_t>(1, samples.count() / static_cast<size_t>(max_probes));
  std::vector<std::string> probes;
  size_t offset = 0;
  for (size_t i = 0; i < samples.count(); ++i) {
    if (i % stride == 0 && samples.sizes[i] > 0) {
      probes.emplace_back(samples.buffer.substr(offset, samples.sizes[i]));
    }
    offset += samples.sizes[i];
  }
  std::vector<float> sizes(probes.size());
  (*bank)->Measure(probes, sizes, {});
  double total = 0;
  for (size_t i = 0; i < probes.size(); ++i) {
    total += (sizes[i] - (*bank)->header_size()) / static_cast<double>(probes[i].size());
  }
  return probes.empty() ? 1.0 : total / static_cast<double>(probes.size());
}

struct ClassPlan {
  std::vector<size_t> sizes;  // fixed plan; empty with dynamic shrinking
  size_t first_size = 0;      // dynamic shrinking starts here
};

}  // namespace

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data,
                                   TrainContext& ctx) {
  const int num_classes = static_cast<int>(data.classes.size());
  ASSIGN_OR_RETURN(v1::ZestConfig config, ResolveConfig(start.config().zest(), num_classes));
  const bool binary = IsBinary(config);
  int positive = 1;
  if (binary) {
    ASSIGN_OR_RETURN(positive, ResolvePositiveClass(config, data.classes));
  }
  std::vector<std::vector<size_t>> members(num_classes);
  for (size_t i = 0; i < data.labels.size(); ++i) members[data.labels[i]].push_back(i);
  for (int c = 0; c < num_classes; ++c) {
    if (members[c].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("class \"", data.classes[c], "\" has no training examples"));
    }
  }

  // Probabilities are calibrated on examples the dictionaries never saw: the CALIBRATION split,
  // or else a small stratified hold-out of the training examples.
  std::vector<bool> held(data.texts.size(), false);
  std::vector<std::string> calibration_texts = data.calibration_texts;
  std::vector<int> calibration_labels = data.calibration_labels;
  if (calibration_texts.empty() && config.calibration_fraction() > 0 && data.texts.size() >= kMinExamplesForHoldOut) {
    held = CalibrationHoldOut(members, data.texts.size(), config.calibration_fraction());
    for (auto& indices : members) {
      std::vector<size_t> kept;
      for (size_t i : indices) {
        if (!held[i]) {
          kept.push_back(i);
        } else {
          calibration_texts.push_back(data.texts[i]);
          calibration_labels.push_back(data.labels[i]);
        }
      }
      indices = std::move(kept);
    }
  }

  ctx.progress("preprocess", 0.0, "learning the character filter");
  text::CharFilter filter;
  if (config.char_df_threshold() > 0) {
    std::vector<std::string_view> views;
    for (size_t i = 0; i < data.texts.size(); ++i) {
      if (!held[i]) views.push_back(data.texts[i]);
    }
    filter = text::CharFilter::Learn(views, config.char_df_threshold());
  }
  Preprocessor preprocessor(config, filter);

  std::vector<std::vector<std::string>> per_text(data.texts.size());
  ctx.pool->ParallelFor(data.texts.size(), 512, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      if (!held[i]) preprocessor.AppendTrainingSamples(data.texts[i], &per_text[i]);
    }
  });
  std::vector<SampleSet> samples(num_classes);
  for (int c = 0; c < num_classes; ++c) {
    for (size_t i : members[c]) {
      for (const std::string& s : per_text[i]) samples[c].Add(s);
    }
    if (samples[c].buffer.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "class \"", data.classes[c], "\" has no text left after cleaning; its examples are empty "
          "or made only of filtered characters"));
    }
  }
  per_text.clear();
  RETURN_IF_ERROR(ctx.cancel->Check());

  // Dictionary sizes follow the reference: binary models size from the positive class's corpus
  // (the negative class reuses it); multi-class models space sizes between the classes' corpora.
  ctx.progress("size", 0.1, "measuring class corpora");
  auto corpus_size = [&](int c) {
    std::string corpus;
    corpus.reserve(samples[c].buffer.size() + samples[c].count());
    size_t offset = 0;
    for (size_t len : samples[c].sizes) {
      if (!corpus.empty()) corpus.push_back(preprocessor.corpus_separator());
      corpus.append(samples[c].buffer, offset, len);
      offset += len;
    }
    return MeasureCompressedSize(corpus, config.level(), config.sizing_block_bytes(), ctx.pool);
  };
  std::vector<ClassPlan> plans(num_classes);
  int64_t primary = 0;
  if (binary) {
    primary = static_cast<int64_t>(config.dict_size_factor() * corpus_size(positive));
    for (auto& plan : plans) {
      plan.sizes = BinaryDictionarySizes(primary, config.max_dicts(), config.min_dict_size());
      plan.first_size = plan.sizes.front();
    }
  } else {
    std::vector<int64_t> compressed(num_classes);
    for (int c = 0; c < num_classes; ++c) compressed[c] = corpus_size(c);
    std::vector<size_t> sizes = MulticlassDictionarySizes(
        compressed, config.max_dicts(), config.min_dict_size(), config.multiclass_min_size_cap());
    for (size_t& size : sizes) size = static_cast<size_t>(size * config.multiclass_dict_scale());
    primary = static_cast<int64_t>(sizes.back());
    for (auto& plan : plans) {
      plan.sizes = sizes;
      plan.first_size = sizes.back();
    }
  }
  RETURN_IF_ERROR(ctx.cancel->Check());

  // Build. Fixed plans train every (class, size) pair in parallel; dynamic shrinking decides
  // each class's next size from the last dictionary, so it runs classes in parallel instead.
  std::vector<std::vector<TrainedDictionary>> dicts(num_classes);
  std::mutex mu;
  absl::Status failure;
  std::atomic<int> built{0};
  int expected = 0;
  for (auto& plan : plans) expected += static_cast<int>(plan.sizes.size());
  auto report = [&] {
    int done = ++built;
    // Dictionaries finish on pool threads; progress callbacks need not be thread-safe.
    std::lock_guard<std::mutex> lock(mu);
    ctx.progress("dictionaries", 0.2 + 0.7 * std::min(1.0, done / std::max(1.0, 1.0 * expected)),
                 absl::StrCat(done, " dictionaries built"));
  };
  auto record_failure = [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (failure.ok()) failure = std::move(s);
  };

  if (!config.dynamic_shrinking()) {
    struct Job { int cls; size_t index; size_t size; };
    std::vector<Job> jobs;
    for (int c = 0; c < num_classes; ++c) {
      dicts[c].resize(plans[c].sizes.size());
      for (size_t j = 0; j < plans[c].sizes.size(); ++j) jobs.push_back({c, j, plans[c].sizes[j]});
    }
    // Largest first, so that the longest jobs do not end up last on one core.
    std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.size > b.size; });
    ctx.pool->ParallelFor(jobs.size(), 1, [&](size_t begin, size_t end) {
      for (size_t k = begin; k < end; ++k) {
        if (ctx.cancel->cancelled()) return;
        auto d = TrainDictionary(samples[jobs[k].cls], jobs[k].size, config);
        if (!d.ok()) return record_failure(d.status());
        dicts[jobs[k].cls][jobs[k].index] = std::move(*d);
        report();
      }
    });
  } else {
    ctx.pool->ParallelFor(num_classes, 1, [&](size_t begin, size_t end) {
      for (size_t c = begin; c < end; ++c) {
        double size = static_cast<double>(plans[c].first_size);
        while (static_cast<int>(dicts[c].size()) < config.max_dicts()) {
          if (ctx.cancel->cancelled()) return;
          auto d = TrainDictionary(samples[c], static_cast<size_t>(size), config);
          if (!d.ok()) return record_failure(d.status());
          dicts[c].push_back(std::move(*d));
          report();
          const double rate = MeanRate(samples[c], dicts[c].back().content, config.level(),
                                       config.shrink_probe_samples());
          const double next = size * config.dict_size_factor();
          if (rate >= config.compression_threshold() || next < config.min_dict_size()) break;
          size = next;
        }
      }
    });
  }
  RETURN_IF_ERROR(ctx.cancel->Check());
  RETURN_IF_ERROR(failure);

  ctx.progress("write", 0.92, "writing dictionaries");
  v1::Manifest manifest;
  manifest.set_family(v1::ZEST);
  for (const auto& name : data.classes) manifest.add_classes(name);
  *manifest.mutable_config() = start.config();
  *manifest.mutable_config()->mutable_zest() = config;
  v1::ZestState* state = manifest.mutable_zest();
  *state->mutable_resolved() = config;
  state->set_allowed_characters(filter.allowed());
  state->set_primary_dict_size(primary);
  state->set_positive_class_index(binary ? positive : 0);
  state->set_temperature(binary ? kDefaultBinaryTemperature : kDefaultMulticlassTemperature);
  std::filesystem::create_directories(ctx.output_dir / "dicts");
  int raw_content = 0;
  for (int c = 0; c < num_classes; ++c) {
    v1::ZestClassDictionaries* entry = state->add_classes();
    entry->set_label(data.classes[c]);
    for (size_t j = 0; j < dicts[c].size(); ++j) {
      const std::string file = absl::StrCat("dicts/class", c, "_dict", j, ".zdict");
      RETURN_IF_ERROR(WriteFileDurably(ctx.output_dir / file, dicts[c][j].content));
      v1::ZestDictionary* d = entry->add_dictionaries();
      d->set_file(file);
      d->set_size_bytes(dicts[c][j].content.size());
      raw_content += dicts[c][j].raw_content ? 1 : 0;
    }
  }
  // The header size comes from the same code path that scores, so they cannot disagree.
  ASSIGN_OR_RETURN(auto bank, CompressorBank::Create({{dicts[0][0].content}}, config.level()));
  state->set_header_size(bank->header_size());
  if (!calibration_texts.empty()) {
    ctx.progress("calibrate", 0.94, absl::StrCat("fitting the probability temperature on ",
                                                 calibration_texts.size(), " held-out examples"));
    ASSIGN_OR_RETURN(double temperature,
                     FitTemperatureOn(manifest, dicts, calibration_texts, calibration_labels, ctx.pool));
    state->set_temperature(temperature);
    state->set_calibration_examples(static_cast<int64_t>(calibration_texts.size()));
  }
  if (raw_content > 0) {
    (*manifest.mutable_training()->mutable_notes())["raw_content_dictionaries"] =
        absl::StrCat(raw_content, " dictionaries are raw samples: the classes were too small for "
                                  "zstd's dictionary builder");
  }
  return manifest;
}

}  // namespace textclf::zest
