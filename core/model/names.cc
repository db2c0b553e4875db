#include "core/model/names.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/text/utf8.h"

namespace textclf {
namespace {

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// A rejected name is quoted escaped: it may hold bytes that do not belong in a message.
absl::Status ValidateIdentifier(std::string_view kind, std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat("the ", std::string(kind), " name is empty"));
  if (name.size() > kMaxIdentifierLength) {
    return absl::InvalidArgumentError(absl::StrCat("the ", std::string(kind), " name is ", name.size(),
                                                   " characters long; the limit is ", kMaxIdentifierLength));
  }
  bool ok = name[0] != '.' && name[0] != '-' && name[0] != '_';
  for (char c : name) ok = ok && IsIdentifierChar(c);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", std::string(kind), " name \"", absl::CHexEscape(std::string(name)),
                                                   "\": use letters, digits, '_', '-' and '.', starting with a "
                                                   "letter or digit"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateModelName(std::string_view name) { return ValidateIdentifier("model", name); }

absl::Status ValidateDatasetName(std::string_view name) { return ValidateIdentifier("data set", name); }

absl::Status ValidateClassName(std::string_view name, std::string_view what) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is empty"));
  if (name.size() > kMaxClassNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " is ", name.size(), " bytes long; the limit is ", kMaxClassNameBytes));
  }
  if (!text::IsValidUtf8(name)) return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is not valid UTF-8"));
  for (size_t pos = 0; pos < name.size();) {
    char32_t cp = 0;
    pos += text::DecodeUtf8(name, pos, &cp);
    // C0, DEL and C1: tabs, newlines and escapes would break the lines and tables they appear in.
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(what), " \"", absl::CHexEscape(std::string(name)),
                                                     "\" contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateClassNames(std::span<const std::string> names) {
  if (names.size() > kMaxClasses) {
    return absl::InvalidArgumentError(
        absl::StrCat(names.size(), " class names were given; the limit is ", kMaxClasses));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (absl::Status s = ValidateClassName(names[i], absl::StrCat("class name ", i + 1)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace textclf
