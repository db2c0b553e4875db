#include "core/model/family_names.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace textclf {
namespace {

// The names follow the proto enum (ZEST -> "zest"), so a family added to model.proto is named
// here without a change.
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string KnownNames() {
  std::vector<std::string> names;
  const auto* descriptor = v1::Family_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() != v1::FAMILY_UNSPECIFIED) names.push_back(Lower(descriptor->value(i)->name()));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

std::string FamilyName(v1::Family family) {
  if (family == v1::FAMILY_UNSPECIFIED) return "unspecified";
  if (!v1::Family_IsValid(family)) return absl::StrCat("family ", static_cast<int>(family));
  return Lower(v1::Family_Name(family));
}

absl::StatusOr<v1::Family> ParseFamily(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return c == '-' ? '_' : std::toupper(c); });
  v1::Family family;
  if (v1::Family_Parse(upper, &family) && family != v1::FAMILY_UNSPECIFIED) return family;
  return absl::InvalidArgumentError(absl::StrCat("unknown family \"", std::string(name), "\"; use one of ", KnownNames()));
}

}  // namespace textclf
