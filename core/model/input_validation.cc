#include "core/model/input_validation.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/text/utf8.h"

namespace textclf {

absl::Status ValidateText(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is empty; send non-empty text"));
  }
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " has ", text.size(),
                                                   " bytes; the limit is ", max_bytes,
                                                   " (max_text_bytes in the server config)"));
  }
  if (!text::IsValidUtf8(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " is not valid UTF-8; re-encode the input as UTF-8"));
  }
  return absl::OkStatus();
}

}  // namespace textclf
