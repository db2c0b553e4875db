// The one list of model families built into textclf. The server (the composition root) hands
// this table to the registry, the jobs and the runtime, which know families only through it;
// adding a family is a line here (see core/README.md).
#pragma once

#include "absl/status/statusor.h"
#include "core/model/family.h"

namespace textclf {

const FamilyTable& BuiltInFamilies();

// BuiltInFamilies().Find(family), for tools and tests that have no table of their own.
absl::StatusOr<const FamilyDescriptor*> FindFamily(v1::Family family);

}  // namespace textclf
