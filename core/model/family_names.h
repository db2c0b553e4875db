// Family names as users write them ("zest", "text_cnn", ...), for the CLI, messages and logs:
// the lower-case names of model.proto's Family enum.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "textclf/v1/model.pb.h"

namespace textclf {

// "unspecified" for FAMILY_UNSPECIFIED, "family N" for a value model.proto does not name.
std::string FamilyName(v1::Family family);
// The inverse of FamilyName, also accepting upper case and '-'; INVALID_ARGUMENT listing the
// names for an unknown one.
absl::StatusOr<v1::Family> ParseFamily(std::string_view name);

}  // namespace textclf
