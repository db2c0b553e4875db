// Family names as users write them ("zest", "text_cnn", ...), for the CLI, messages and logs.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "textclf/v1/model.pb.h"

namespace textclf {

std::string_view FamilyName(v1::Family family);
// The inverse of FamilyName, also accepting upper case and '-'; INVALID_ARGUMENT listing the
// names for an unknown one.
absl::StatusOr<v1::Family> ParseFamily(std::string_view name);

}  // namespace textclf
