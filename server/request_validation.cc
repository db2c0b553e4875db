#include "server/request_validation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/model/input_validation.h"

namespace textclf::server {

absl::Status ValidateRequest(const v1::ClassifyRequest& request, const v1::ServerLimits& limits) {
  if (request.model().empty()) return absl::InvalidArgumentError("model is empty; name the model to use");
  if (request.version() < 0) {
    return absl::InvalidArgumentError("version must be positive, or 0 for the latest loaded version");
  }
  if (request.texts_size() > 0 && request.text_strings_size() > 0) {
    return absl::InvalidArgumentError("the request has both texts and text_strings; send the texts in one of them");
  }
  if (request.texts_size() == 0 && request.text_strings_size() == 0 && request.tensors_size() == 0) {
    return absl::InvalidArgumentError("the request has no texts; send at least one");
  }
  if (request.text_strings_size() > limits.max_texts_per_request()) {
    return absl::InvalidArgumentError(absl::StrCat("the request has ", request.text_strings_size(),
                                                   " inputs; the limit is ", limits.max_texts_per_request(),
                                                   ": split it into smaller requests"));
  }
  if (request.texts_size() > limits.max_texts_per_request() ||
      request.tensors_size() > limits.max_texts_per_request()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request has ", std::max(request.texts_size(), request.tensors_size()),
        " inputs; the limit is ", limits.max_texts_per_request(), ": split it into smaller requests"));
  }
  if (request.top_k() < 0) return absl::InvalidArgumentError("top_k must not be negative");
  for (int i = 0; i < request.texts_size(); ++i) {
    absl::Status s = ValidateText(request.texts(i), static_cast<size_t>(limits.max_text_bytes()),
                                  absl::StrCat("texts[", i, "]"));
    if (!s.ok()) return s;
  }
  for (int i = 0; i < request.text_strings_size(); ++i) {
    absl::Status s = ValidateText(request.text_strings(i), static_cast<size_t>(limits.max_text_bytes()),
                                  absl::StrCat("text_strings[", i, "]"));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace textclf::server
