#include "core/zest/zest_trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>

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

// What the stages of Train share, in the order they fill it in.
struct ZestTraining {
  ZestTraining(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx)
      : start(start), data(data), ctx(ctx), num_classes(static_cast<int>(data.classes.size())) {}

  const v1::TrainStart& start;
  const TrainingSet& data;
  TrainContext& ctx;
  const int num_classes;

  v1::ZestConfig config;
  bool binary = false;
  int positive = 1;
  std::vector<std::vector<size_t>> members;  // training example indices per class
  std::vector<bool> held;                    // held out for calibration
  std::vector<std::string> calibration_texts;
  std::vector<int> calibration_labels;
  text::CharFilter filter;
  std::optional<Preprocessor> preprocessor;
  std::vector<SampleSet> samples;  // per class
  std::vector<ClassPlan> plans;
  int64_t primary = 0;
  std::vector<std::vector<TrainedDictionary>> dicts;  // per class, largest first
  v1::Manifest manifest;
  int raw_content = 0;  // dictionaries that are raw samples
};

absl::Status ResolveOptions(ZestTraining& t) {
  ASSIGN_OR_RETURN(t.config, ResolveConfig(t.start.config().zest(), t.num_classes));
  t.binary = IsBinary(t.config);
  if (t.binary) {
    ASSIGN_OR_RETURN(t.positive, ResolvePositiveClass(t.config, t.data.classes));
  }
  return absl::OkStatus();
}

absl::Status GroupByClass(ZestTraining& t) {
  t.members.resize(t.num_classes);
  for (size_t i = 0; i < t.data.labels.size(); ++i) t.members[t.data.labels[i]].push_back(i);
  for (int c = 0; c < t.num_classes; ++c) {
    if (t.members[c].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("class \"", t.data.classes[c], "\" has no training examples"));
    }
  }
  return absl::OkStatus();
}

// Probabilities are calibrated on examples the dictionaries never saw: the CALIBRATION split,
// or else a small stratified hold-out of the training examples.
void HoldOutCalibrationExamples(ZestTraining& t) {
  const TrainingSet& data = t.data;
  t.held.assign(data.texts.size(), false);
  t.calibration_texts = data.calibration_texts;
  t.calibration_labels = data.calibration_labels;
  const bool hold_out = t.calibration_texts.empty() && t.config.calibration_fraction() > 0 &&
                        data.texts.size() >= kMinExamplesForHoldOut;
  if (!hold_out) return;
  t.held = CalibrationHoldOut(t.members, data.texts.size(), t.config.calibration_fraction());
  for (auto& indices : t.members) {
    std::vector<size_t> kept;
    for (size_t i : indices) {
      if (!t.held[i]) {
        kept.push_back(i);
      } else {
        t.calibration_texts.push_back(data.texts[i]);
        t.calibration_labels.push_back(data.labels[i]);
      }
    }
    indices = std::move(kept);
  }
}

void LearnCharacterFilter(ZestTraining& t) {
  t.ctx.progress("preprocess", 0.0, "learning the character filter");
  if (t.config.char_df_threshold() > 0) {
    std::vector<std::string_view> views;
    for (size_t i = 0; i < t.data.texts.size(); ++i) {
      if (!t.held[i]) views.push_back(t.data.texts[i]);
    }
    t.filter = text::CharFilter::Learn(views, t.config.char_df_threshold());
  }
  t.preprocessor.emplace(t.config, t.filter);
}

absl::Status CollectSamples(ZestTraining& t) {
  const TrainingSet& data = t.data;
  std::vector<std::vector<std::string>> per_text(data.texts.size());
  t.ctx.pool->ParallelFor(data.texts.size(), 512, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      if (!t.held[i]) t.preprocessor->AppendTrainingSamples(data.texts[i], &per_text[i]);
    }
  });
  t.samples.resize(t.num_classes);
  for (int c = 0; c < t.num_classes; ++c) {
    for (size_t i : t.members[c]) {
      for (const std::string& s : per_text[i]) t.samples[c].Add(s);
    }
    if (t.samples[c].buffer.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "class \"", data.classes[c], "\" has no text left after cleaning; its examples are empty "
          "or made only of filtered characters"));
    }
  }
  return absl::OkStatus();
}

int64_t CompressedCorpusSize(const ZestTraining& t, int c) {
  const SampleSet& samples = t.samples[c];
  std::string corpus;
  corpus.reserve(samples.buffer.size() + samples.count());
  size_t offset = 0;
  for (size_t len : samples.sizes) {
    if (!corpus.empty()) corpus.push_back(t.preprocessor->corpus_separator());
    corpus.append(samples.buffer, offset, len);
    offset += len;
  }
  return MeasureCompressedSize(corpus, t.config.level(), t.config.sizing_block_bytes(), t.ctx.pool);
}

// Dictionary sizes follow the reference: binary models size from the positive class's corpus
// (the negative class reuses it); multi-class models space sizes between the classes' corpora.
void PlanDictionarySizes(ZestTraining& t) {
  const v1::ZestConfig& config = t.config;
  t.ctx.progress("size", 0.1, "measuring class corpora");
  t.plans.resize(t.num_classes);
  if (t.binary) {
    t.primary = static_cast<int64_t>(config.dict_size_factor() * CompressedCorpusSize(t, t.positive));
    for (auto& plan : t.plans) {
      plan.sizes = BinaryDictionarySizes(t.primary, config.max_dicts(), config.min_dict_size());
      plan.first_size = plan.sizes.front();
    }
    return;
  }
  std::vector<int64_t> compressed(t.num_classes);
  for (int c = 0; c < t.num_classes; ++c) compressed[c] = CompressedCorpusSize(t, c);
  std::vector<size_t> sizes = MulticlassDictionarySizes(
      compressed, config.max_dicts(), config.min_dict_size(), config.multiclass_min_size_cap());
  for (size_t& size : sizes) size = static_cast<size_t>(size * config.multiclass_dict_scale());
  t.primary = static_cast<int64_t>(sizes.back());
  for (auto& plan : t.plans) {
    plan.sizes = sizes;
    plan.first_size = sizes.back();
  }
}

// Progress and the first failure of dictionary builds running on pool threads.
class BuildTracker {
 public:
  explicit BuildTracker(const ZestTraining& t) : progress_(t.ctx.progress) {
    for (const auto& plan : t.plans) expected_ += static_cast<int>(plan.sizes.size());
  }

  void Built() {
    int done = ++built_;
    // Dictionaries finish on pool threads; progress callbacks need not be thread-safe.
    std::lock_guard<std::mutex> lock(mu_);
    progress_("dictionaries", 0.2 + 0.7 * std::min(1.0, done / std::max(1.0, 1.0 * expected_)),
              absl::StrCat(done, " dictionaries built"));
  }

  void Failed(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failure_.ok()) failure_ = std::move(s);
  }

  absl::Status failure() const { return failure_; }

 private:
  const ProgressFn& progress_;
  std::mutex mu_;
  absl::Status failure_;
  std::atomic<int> built_{0};
  int expected_ = 0;
};

// Every (class, size) pair of the fixed plans, in parallel.
void BuildPlannedDictionaries(ZestTraining& t, BuildTracker& tracker) {
  struct Job { int cls; size_t index; size_t size; };
  std::vector<Job> jobs;
  for (int c = 0; c < t.num_classes; ++c) {
    t.dicts[c].resize(t.plans[c].sizes.size());
    for (size_t j = 0; j < t.plans[c].sizes.size(); ++j) jobs.push_back({c, j, t.plans[c].sizes[j]});
  }
  // Largest first, so that the longest jobs do not end up last on one core.
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.size > b.size; });
  t.ctx.pool->ParallelFor(jobs.size(), 1, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      if (t.ctx.cancel->cancelled()) return;
      auto d = TrainDictionary(t.samples[jobs[k].cls], jobs[k].size, t.config);
      if (!d.ok()) return tracker.Failed(d.status());
      t.dicts[jobs[k].cls][jobs[k].index] = std::move(*d);
      tracker.Built();
    }
  });
}

// Dynamic shrinking decides each class's next size from its last dictionary, so classes run in
// parallel and each class's dictionaries one after the other.
void BuildShrinkingDictionaries(ZestTraining& t, BuildTracker& tracker) {
  const v1::ZestConfig& config = t.config;
  t.ctx.pool->ParallelFor(t.num_classes, 1, [&](size_t begin, size_t end) {
    for (size_t c = begin; c < end; ++c) {
      double size = static_cast<double>(t.plans[c].first_size);
      while (static_cast<int>(t.dicts[c].size()) < config.max_dicts()) {
        if (t.ctx.cancel->cancelled()) return;
        auto d = TrainDictionary(t.samples[c], static_cast<size_t>(size), config);
        if (!d.ok()) return tracker.Failed(d.status());
        t.dicts[c].push_back(std::move(*d));
        tracker.Built();
        const double rate = MeanRate(t.samples[c], t.dicts[c].back().content, config.level(),
                                     config.shrink_probe_samples());
        const double next = size * config.dict_size_factor();
        if (rate >= config.compression_threshold() || next < config.min_dict_size()) break;
        size = next;
      }
    }
  });
}

absl::Status BuildDictionaries(ZestTraining& t) {
  t.dicts.resize(t.num_classes);
  BuildTracker tracker(t);
  if (!t.config.dynamic_shrinking()) {
    BuildPlannedDictionaries(t, tracker);
  } else {
    BuildShrinkingDictionaries(t, tracker);
  }
  RETURN_IF_ERROR(t.ctx.cancel->Check());
  return tracker.failure();
}

void DescribeModel(ZestTraining& t) {
  v1::Manifest& manifest = t.manifest;
  manifest.set_family(v1::ZEST);
  for (const auto& name : t.data.classes) manifest.add_classes(name);
  *manifest.mutable_config() = t.start.config();
  *manifest.mutable_config()->mutable_zest() = t.config;
  v1::ZestState* state = manifest.mutable_zest();
  *state->mutable_resolved() = t.config;
  state->set_allowed_characters(t.filter.allowed());
  state->set_primary_dict_size(t.primary);
  state->set_positive_class_index(t.binary ? t.positive : 0);
  state->set_temperature(t.binary ? kDefaultBinaryTemperature : kDefaultMulticlassTemperature);
}

absl::Status WriteDictionaries(ZestTraining& t) {
  v1::ZestState* state = t.manifest.mutable_zest();
  std::filesystem::create_directories(t.ctx.output_dir / "dicts");
  for (int c = 0; c < t.num_classes; ++c) {
    v1::ZestClassDictionaries* entry = state->add_classes();
    entry->set_label(t.data.classes[c]);
    for (size_t j = 0; j < t.dicts[c].size(); ++j) {
      const std::string file = absl::StrCat("dicts/class", c, "_dict", j, ".zdict");
      RETURN_IF_ERROR(WriteFileDurably(t.ctx.output_dir / file, t.dicts[c][j].content));
      v1::ZestDictionary* d = entry->add_dictionaries();
      d->set_file(file);
      d->set_size_bytes(t.dicts[c][j].content.size());
      t.raw_content += t.dicts[c][j].raw_content ? 1 : 0;
    }
  }
  // The header size comes from the same code path that scores, so they cannot disagree.
  ASSIGN_OR_RETURN(auto bank, CompressorBank::Create({{t.dicts[0][0].content}}, t.config.level()));
  state->set_header_size(bank->header_size());
  return absl::OkStatus();
}

absl::Status CalibrateTemperature(ZestTraining& t) {
  if (t.calibration_texts.empty()) return absl::OkStatus();
  t.ctx.progress("calibrate", 0.94, absl::StrCat("fitting the probability temperature on ",
                                                 t.calibration_texts.size(), " held-out examples"));
  ASSIGN_OR_RETURN(double temperature, FitTemperatureOn(t.manifest, t.dicts, t.calibration_texts,
                                                        t.calibration_labels, t.ctx.pool));
  v1::ZestState* state = t.manifest.mutable_zest();
  state->set_temperature(temperature);
  state->set_calibration_examples(static_cast<int64_t>(t.calibration_texts.size()));
  return absl::OkStatus();
}

void NoteRawDictionaries(ZestTraining& t) {
  if (t.raw_content == 0) return;
  (*t.manifest.mutable_training()->mutable_notes())["raw_content_dictionaries"] =
      absl::StrCat(t.raw_content, " dictionaries are raw samples: the classes were too small for "
                                  "zstd's dictionary builder");
}

}  // namespace

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data,
                                   TrainContext& ctx) {
  ZestTraining t(start, data, ctx);
  RETURN_IF_ERROR(ResolveOptions(t));
  RETURN_IF_ERROR(GroupByClass(t));
  HoldOutCalibrationExamples(t);
  LearnCharacterFilter(t);
  RETURN_IF_ERROR(CollectSamples(t));
  RETURN_IF_ERROR(ctx.cancel->Check());
  PlanDictionarySizes(t);
  RETURN_IF_ERROR(ctx.cancel->Check());
  RETURN_IF_ERROR(BuildDictionaries(t));
  ctx.progress("write", 0.92, "writing dictionaries");
  DescribeModel(t);
  RETURN_IF_ERROR(WriteDictionaries(t));
  RETURN_IF_ERROR(CalibrateTemperature(t));
  NoteRawDictionaries(t);
  return std::move(t.manifest);
}

}  // namespace textclf::zest
