#include "core/model/family_names.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"

namespace textclf {
namespace {

struct NamedFamily {
  v1::Family family;
  std::string_view name;
};
constexpr NamedFamily kNames[] = {
    {v1::ZEST, "zest"},           {v1::XCLASS, "xclass"},           {v1::TEXT_CNN, "text_cnn"},
    {v1::IMAGE_CNN, "image_cnn"}, {v1::ENCODER_MLM, "encoder_mlm"},
};

}  // namespace

std::string_view FamilyName(v1::Family family) {
  for (const auto& n : kNames) {
    if (n.family == family) return n.name;
  }
  return "unspecified";
}

absl::StatusOr<v1::Family> ParseFamily(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return c == '-' ? '_' : std::tolower(c); });
  for (const auto& n : kNames) {
    if (n.name == lower) return n.family;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown family \"", std::string(name), "\"; use zest, xclass, text_cnn, image_cnn or encoder_mlm"));
}

}  // namespace textclf
