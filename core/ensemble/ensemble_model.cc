#include "core/ensemble/ensemble_model.h"

#include <condition_variable>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"

namespace textclf::ensemble {

std::vector<v1::ModelReference> Members(const v1::Manifest& manifest) {
  const auto& members = manifest.ensemble().resolved().members();
  return std::vector<v1::ModelReference>(members.begin(), members.end());
}

absl::StatusOr<std::vector<std::vector<int>>> MapClasses(const std::vector<std::string>& classes,
                                                         std::span<const LoadedVersion> members) {
  std::vector<std::vector<int>> class_of;
  for (const LoadedVersion& member : members) {
    const Model& model = *member.model;
    const std::string who = absl::StrCat("member ", model.name(), " v", model.version());
    if (model.num_classes() != classes.size()) {
      return absl::InvalidArgumentError(absl::StrCat(who, " has ", model.num_classes(), " classes; the ensemble's ",
                                                     classes.size(), " are ", absl::StrJoin(classes, ", ")));
    }
    std::vector<int> map;
    for (const std::string& c : classes) {
      const int k = model.ClassIndex(c);
      if (k < 0) {
        return absl::InvalidArgumentError(absl::StrCat(who, " has no class \"", c, "\"; every member needs the classes ",
                                                       absl::StrJoin(classes, ", ")));
      }
      map.push_back(k);
    }
    class_of.push_back(std::move(map));
  }
  return class_of;
}

absl::StatusOr<std::unique_ptr<Model>> EnsembleModel::Load(v1::Manifest manifest, std::vector<LoadedVersion> members) {
  if (!manifest.has_ensemble()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest of ", manifest.name(), " version ", manifest.version(),
                                                   " has no ensemble state"));
  }
  if (members.size() < 2 || members.size() > static_cast<size_t>(kMaxMembers) ||
      members.size() != static_cast<size_t>(manifest.ensemble().resolved().members_size())) {
    return absl::InvalidArgumentError(absl::StrCat("an ensemble has 2 to ", kMaxMembers, " members; ", manifest.name(),
                                                   " version ", manifest.version(), " has ", members.size()));
  }
  const std::vector<std::string> classes(manifest.classes().begin(), manifest.classes().end());
  ASSIGN_OR_RETURN(std::vector<std::vector<int>> class_of, MapClasses(classes, members));
  ASSIGN_OR_RETURN(Combination combination, CombinationFromState(manifest.ensemble(), members.size(), classes.size()));
  return std::unique_ptr<Model>(
      new EnsembleModel(std::move(manifest), std::move(members), std::move(class_of), std::move(combination)));
}

EnsembleModel::EnsembleModel(v1::Manifest manifest, std::vector<LoadedVersion> members,
                             std::vector<std::vector<int>> class_of, Combination combination)
    : Model(std::move(manifest)),
      members_(std::move(members)),
      class_of_(std::move(class_of)),
      combination_(std::move(combination)) {}

absl::Status EnsembleModel::ValidateInput(const ModelInput& input) const {
  for (const LoadedVersion& member : members_) RETURN_IF_ERROR(member.model->ValidateInput(input));
  return absl::OkStatus();
}

std::string EnsembleModel::execution() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < members_.size(); ++i) {
    const Model& m = *members_[i].model;
    names.push_back(combination_.rule == v1::EnsembleConfig::WEIGHTED
                        ? absl::StrCat(m.name(), " v", m.version(), " (", absl::SixDigits(combination_.weights[i]), ")")
                        : absl::StrCat(m.name(), " v", m.version()));
  }
  const char* rule = combination_.rule == v1::EnsembleConfig::WEIGHTED   ? "weighted average"
                     : combination_.rule == v1::EnsembleConfig::STACKING ? "stacking"
                                                                         : "average";
  return absl::StrCat(rule, " of ", absl::StrJoin(names, ", "));
}

absl::Status EnsembleModel::Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const {
  // Every member gets the whole batch at once; this instance waits for all of them. The callbacks
  // run on the members' threads and touch only what lives until the wait below is over.
  struct FanIn {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    absl::Status status;
  } fan_in;
  std::vector<ScoreMatrix> parts(members_.size());
  fan_in.pending = members_.size();
  auto finish = [&fan_in](const absl::Status& s) {
    std::lock_guard<std::mutex> lock(fan_in.mu);
    if (!s.ok() && fan_in.status.ok()) fan_in.status = s;
    if (--fan_in.pending == 0) fan_in.cv.notify_all();
  };
  // A member's error says which member failed.
  auto named = [](const Model& member, const absl::Status& s) {
    return s.ok() ? s
                  : absl::Status(s.code(), absl::StrCat("member ", member.name(), " v", member.version(), ": ",
                                                        s.message()));
  };
  for (size_t m = 0; m < members_.size(); ++m) {
    const Model& member = *members_[m].model;
    absl::Status submitted = members_[m].Submit(
        batch, v1::INTERACTIVE,
        [&parts, &finish, named, &member, m](const absl::Status& s, ScoreMatrix& scores) {
          if (s.ok()) parts[m] = std::move(scores);
          finish(named(member, s));
        },
        device);
    if (!submitted.ok()) finish(named(member, submitted));
  }
  {
    std::unique_lock<std::mutex> lock(fan_in.mu);
    fan_in.cv.wait(lock, [&fan_in] { return fan_in.pending == 0; });
  }
  RETURN_IF_ERROR(fan_in.status);
  const size_t classes = num_classes();
  for (size_t m = 0; m < members_.size(); ++m) {
    if (parts[m].rows != batch.size() || parts[m].cols != classes) {
      return absl::InternalError(absl::StrCat("member ", members_[m].model->name(), " v", members_[m].model->version(),
                                              " returned ", parts[m].rows, "x", parts[m].cols, " scores for ",
                                              batch.size(), " inputs of ", classes, " classes"));
    }
  }
  out->Resize(batch.size(), classes);
  thread_local std::vector<float> ordered;
  thread_local std::vector<const float*> rows;
  ordered.resize(members_.size() * classes);
  rows.resize(members_.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    for (size_t m = 0; m < members_.size(); ++m) {
      const float* p = parts[m].probability_row(i);
      float* dst = ordered.data() + m * classes;
      for (size_t c = 0; c < classes; ++c) dst[c] = p[class_of_[m][c]];
      rows[m] = dst;
    }
    combination_.Combine(rows, out->score_row(i), out->probability_row(i));
  }
  return absl::OkStatus();
}

}  // namespace textclf::ensemble
