// A loaded ENSEMBLE version: its members as the registry loaded them (each with its scheduler)
// and the rule that combines them. A batch goes to every member's queue at once, so the members
// batch it with their other traffic on their own instances; their probabilities, put in the
// ensemble's class order, are combined row by row.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/ensemble/combiner.h"
#include "core/model/model.h"
#include "core/model/model_observer.h"

namespace textclf::ensemble {

// At most this many members: every request costs each of them a batch slot.
inline constexpr int kMaxMembers = 8;

// The members' versions a manifest pins (FamilyDescriptor::dependencies).
std::vector<v1::ModelReference> Members(const v1::Manifest& manifest);

// For each member, the member's class index of each of the ensemble's classes; INVALID_ARGUMENT
// unless every member has exactly the ensemble's classes (in any order).
absl::StatusOr<std::vector<std::vector<int>>> MapClasses(const std::vector<std::string>& classes,
                                                         std::span<const LoadedVersion> members);

class EnsembleModel final : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest, std::vector<LoadedVersion> members);

  // An input must suit every member.
  absl::Status ValidateInput(const ModelInput& input) const override;
  absl::Status Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const override;
  // "average of zest_news v3, linear_news v1"; a weighted one gives each weight in brackets.
  std::string execution() const override;

 private:
  EnsembleModel(v1::Manifest manifest, std::vector<LoadedVersion> members, std::vector<std::vector<int>> class_of,
                Combination combination);

  std::vector<LoadedVersion> members_;
  std::vector<std::vector<int>> class_of_;  // [member][ensemble class] -> the member's class
  Combination combination_;
};

}  // namespace textclf::ensemble
