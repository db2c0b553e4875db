// Checks that every entry point applies to a text before it reaches a model, with messages that
// say which text is wrong and how to fix it.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace textclf {

// `what` names the text in the message, e.g. "texts[3]" or "example 17".
absl::Status ValidateText(std::string_view text, size_t max_bytes, std::string_view what);

}  // namespace textclf
