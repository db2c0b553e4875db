#include "core/families/families.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/zest/zest_model.h"
#include "core/zest/zest_trainer.h"

namespace textclf {
namespace {

const FamilyOps kFamilies[] = {
    {v1::ZEST, &zest::ZestModel::Load, &zest::Train},
};

}  // namespace

absl::StatusOr<const FamilyOps*> FindFamily(v1::Family family) {
  for (const FamilyOps& ops : kFamilies) {
    if (ops.family == family) return &ops;
  }
  if (family == v1::FAMILY_UNSPECIFIED) {
    return absl::InvalidArgumentError("the model family is not set");
  }
  return absl::UnimplementedError(absl::StrCat("the ", std::string(FamilyName(family)),
                                               " family is not built into this server yet"));
}

}  // namespace textclf
