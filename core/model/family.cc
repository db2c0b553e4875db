#include "core/model/family.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace textclf {

absl::Status CheckTrainingMemory(const FamilyDescriptor& family, const v1::ModelConfig& config, int64_t limit) {
  const double bytes = family.training_memory_bytes != nullptr ? family.training_memory_bytes(config) : 0;
  if (limit <= 0 || bytes <= static_cast<double>(limit)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "this ", std::string(family.name), " config would need about ", static_cast<int64_t>(bytes / (1 << 20)),
      " MiB to train (parameters with their gradients and optimizer state, and a batch's activations), more than "
      "the server allows a job (max_job_memory_bytes, ", limit / (1 << 20),
      " MiB): lower the batch size, the sequence length or the model's size"));
}

FamilyTable::FamilyTable(std::vector<const FamilyDescriptor*> families) : families_(std::move(families)) {}

absl::StatusOr<const FamilyDescriptor*> FamilyTable::Find(v1::Family family) const {
  for (const FamilyDescriptor* f : families_) {
    if (f->id == family) return f;
  }
  if (family == v1::FAMILY_UNSPECIFIED) return absl::InvalidArgumentError("the model family is not set");
  return absl::InvalidArgumentError(
      absl::StrCat("unknown model family ", static_cast<int>(family), "; this server knows ", Names()));
}

std::string FamilyTable::Names() const {
  return absl::StrJoin(families_, ", ", [](std::string* out, const FamilyDescriptor* f) { out->append(f->name.data(), f->name.size()); });
}

}  // namespace textclf
