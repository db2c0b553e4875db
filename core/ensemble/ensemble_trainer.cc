#include "core/ensemble/ensemble_trainer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/thread_pool.h"
#include "core/ensemble/combiner.h"
#include "core/ensemble/ensemble_model.h"
#include "core/model/names.h"

namespace textclf::ensemble {
namespace {

// Every member's probabilities of every calibration example are held at once to fit on: at most
// this many floats (256 MB), whatever the upload budget let through.
constexpr size_t kMaxCalibrationScores = size_t{1} << 26;

absl::StatusOr<v1::EnsembleConfig> Resolve(const v1::TrainStart& start) {
  v1::EnsembleConfig config = start.config().ensemble();
  if (config.members_size() < 2 || config.members_size() > kMaxMembers) {
    return absl::InvalidArgumentError(absl::StrCat("an ensemble takes 2 to ", kMaxMembers, " members; the config names ",
                                                   config.members_size(), " (ensemble.members, or --member)"));
  }
  for (const v1::ModelReference& member : config.members()) {
    RETURN_IF_ERROR(ValidateModelName(member.name()));
    if (member.version() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("member ", member.name(), " has version ", member.version(),
                                                     "; give a version number, or 0 for the latest"));
    }
    if (member.name() == start.model()) {
      return absl::InvalidArgumentError(absl::StrCat("the ensemble \"", start.model(), "\" cannot be its own member"));
    }
  }
  switch (config.combination()) {
    case v1::EnsembleConfig::COMBINATION_AUTO:
      config.set_combination(v1::EnsembleConfig::AVERAGE);
      break;
    case v1::EnsembleConfig::AVERAGE:
    case v1::EnsembleConfig::WEIGHTED:
    case v1::EnsembleConfig::STACKING:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("ensemble.combination ", static_cast<int>(config.combination()),
                                                     " is unknown to this server; use AVERAGE, WEIGHTED or STACKING"));
  }
  if (!std::isfinite(config.stacking_l2()) || config.stacking_l2() < 0) {
    return absl::InvalidArgumentError("ensemble.stacking_l2 must be finite and >= 0");
  }
  return config;
}

// Loads every member, pinning version 0 to the one it found.
absl::StatusOr<std::vector<LoadedVersion>> LoadMembers(v1::EnsembleConfig& config, TrainContext& ctx) {
  if (!ctx.load_model) {
    return absl::FailedPreconditionError("an ensemble trains inside a server, whose registry holds its members");
  }
  std::vector<LoadedVersion> members;
  for (v1::ModelReference& ref : *config.mutable_members()) {
    const std::string who = absl::StrCat("member ", ref.name(), ref.version() > 0 ? absl::StrCat(" v", ref.version()) : "");
    auto loaded = ctx.load_model(ref.name(), ref.version());
    if (!loaded.ok()) return absl::Status(loaded.status().code(), absl::StrCat(who, ": ", loaded.status().message()));
    const Model& model = *loaded->model;
    if (model.manifest().family() == v1::ENSEMBLE) {
      return absl::InvalidArgumentError(absl::StrCat(who, " is an ensemble; name its members instead"));
    }
    if (model.num_classes() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(who, " has no classes to combine (an encoder?)"));
    }
    // Texts are what an ensemble is sent; a member that refuses one (an image model) cannot serve.
    if (absl::Status s = model.ValidateInput(ModelInput{"an ensemble classifies texts", nullptr}); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(who, " does not classify texts: ", s.message()));
    }
    ref.set_version(model.version());
    members.push_back(*std::move(loaded));
  }
  for (int i = 0; i < config.members_size(); ++i) {
    for (int j = 0; j < i; ++j) {
      if (config.members(i).name() == config.members(j).name() && config.members(i).version() == config.members(j).version()) {
        return absl::InvalidArgumentError(absl::StrCat("member ", config.members(i).name(), " v",
                                                       config.members(i).version(), " is named twice"));
      }
    }
  }
  return members;
}

// Scores `texts` with every member through its queue, in the ensemble's class order.
absl::StatusOr<MemberScores> ScoreWithMembers(const std::vector<LoadedVersion>& members,
                                              const std::vector<std::vector<int>>& class_of,
                                              const std::vector<std::string>& texts, std::vector<int> labels,
                                              size_t classes, TrainContext& ctx) {
  MemberScores out;
  out.members = members.size();
  out.classes = classes;
  out.labels = std::move(labels);
  out.probabilities.assign(members.size(), std::vector<float>(texts.size() * classes));
  std::vector<ModelInput> inputs;
  inputs.reserve(texts.size());
  for (const std::string& t : texts) inputs.push_back(ModelInput{t, nullptr});
  const Device fallback{Device::Kind::kCpu, 0, ctx.pool};
  const CancellationToken* cancel = ctx.cancel;
  ScoreMatrix scores;
  for (size_t m = 0; m < members.size(); ++m) {
    const Model& model = *members[m].model;
    for (size_t begin = 0; begin < inputs.size(); begin += kBulkRequestInputs) {
      const size_t n = std::min(kBulkRequestInputs, inputs.size() - begin);
      const std::span<const ModelInput> chunk(inputs.data() + begin, n);
      for (size_t i = 0; i < n; ++i) RETURN_IF_ERROR(model.ValidateInput(chunk[i]));
      absl::Status s = members[m].Score(
          chunk, v1::BULK, [cancel] { return cancel != nullptr && cancel->cancelled(); }, &scores, fallback);
      if (!s.ok()) return absl::Status(s.code(), absl::StrCat("member ", model.name(), " v", model.version(), ": ", s.message()));
      for (size_t i = 0; i < n; ++i) {
        float* dst = out.probabilities[m].data() + (begin + i) * classes;
        for (size_t c = 0; c < classes; ++c) dst[c] = scores.probability_row(i)[class_of[m][c]];
      }
      ctx.progress("score", 0.1 + 0.7 * (m + static_cast<double>(begin + n) / inputs.size()) / members.size(),
                   absl::StrCat("scoring ", inputs.size(), " calibration examples with ", model.name(), " v",
                                model.version()));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  ASSIGN_OR_RETURN(v1::EnsembleConfig config, Resolve(start));
  ctx.progress("members", 0.0, absl::StrCat("loading ", config.members_size(), " members"));
  ASSIGN_OR_RETURN(std::vector<LoadedVersion> members, LoadMembers(config, ctx));
  // The ensemble's classes are its first member's, in that order; the others must have the same.
  const Model& first = *members.front().model;
  std::vector<std::string> classes;
  for (size_t c = 0; c < first.num_classes(); ++c) classes.push_back(first.class_name(c));
  ASSIGN_OR_RETURN(std::vector<std::vector<int>> class_of, MapClasses(classes, members));

  // The labelled examples to fit on: the CALIBRATION split, or else the TRAIN examples sent.
  const bool calibration = !data.calibration_texts.empty();
  const std::vector<std::string>& texts = calibration ? data.calibration_texts : data.texts;
  const std::vector<int>& sent_labels = calibration ? data.calibration_labels : data.labels;
  std::vector<int> labels;
  labels.reserve(sent_labels.size());
  for (int y : sent_labels) {
    const std::string& name = y >= 0 && static_cast<size_t>(y) < data.classes.size() ? data.classes[y] : "";
    const auto it = std::find(classes.begin(), classes.end(), name);
    if (it == classes.end()) {
      return absl::InvalidArgumentError(absl::StrCat("a calibration example has label \"", name,
                                                     "\", which is not one of the members' classes"));
    }
    labels.push_back(static_cast<int>(it - classes.begin()));
  }
  if (config.combination() != v1::EnsembleConfig::AVERAGE && texts.size() < 2 * classes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        v1::EnsembleConfig::Combination_Name(config.combination()), " fits on labelled examples: send at least ",
        2 * classes.size(), " in a CALIBRATION split (texts the members did not train on); ", texts.size(), " were sent"));
  }
  // members <= kMaxMembers and classes <= kMaxClasses, so the product cannot overflow.
  const size_t per_example = members.size() * classes.size();
  if (texts.size() > kMaxCalibrationScores / per_example) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "an ensemble of ", members.size(), " members over ", classes.size(), " classes fits on at most ",
        kMaxCalibrationScores / per_example, " calibration examples; ", texts.size(), " were sent: send fewer"));
  }
  ASSIGN_OR_RETURN(MemberScores scores, ScoreWithMembers(members, class_of, texts, std::move(labels), classes.size(), ctx));
  ctx.progress("fit", 0.85, absl::StrCat("fitting the ", v1::EnsembleConfig::Combination_Name(config.combination()),
                                         " combination on ", scores.rows(), " examples"));
  if (config.combination() == v1::EnsembleConfig::STACKING && config.stacking_l2() == 0) {
    ASSIGN_OR_RETURN(const double l2, ChooseStackingL2(scores, ctx.cancel));
    config.set_stacking_l2(l2);
  }
  ASSIGN_OR_RETURN(Combination combination,
                   FitCombination(config.combination(), scores, config.stacking_l2(), ctx.cancel));

  v1::Manifest manifest;
  manifest.set_family(v1::ENSEMBLE);
  for (const std::string& c : classes) manifest.add_classes(c);
  *manifest.mutable_config() = start.config();
  *manifest.mutable_config()->mutable_ensemble() = config;
  v1::EnsembleState* state = manifest.mutable_ensemble();
  *state->mutable_resolved() = config;
  CombinationToState(combination, state);
  state->set_calibration_examples(static_cast<int64_t>(scores.rows()));
  if (scores.rows() > 0) {
    for (size_t m = 0; m < members.size(); ++m) {
      const FitQuality q = MeasureFit(scores, static_cast<int>(m), nullptr);
      state->add_member_calibration_log_loss(q.log_loss);
      state->add_member_calibration_accuracy(q.accuracy);
    }
    const FitQuality q = MeasureFit(scores, -1, &combination);
    state->set_calibration_log_loss(q.log_loss);
    state->set_calibration_accuracy(q.accuracy);
  }
  return manifest;
}

}  // namespace textclf::ensemble
