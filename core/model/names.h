// The naming rules of everything a client names that becomes state: a folder, a map key, a
// metric label, a line of metrics.json. One rule per kind of name, all bounded, so that no
// request can grow the server's files, memory or /metrics output by sending long names.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace textclf {

// Identifiers (model and data set names): 1-128 characters of [A-Za-z0-9_.-], starting with a
// letter or digit, so that a name is always one safe path component and a plain metric label.
inline constexpr size_t kMaxIdentifierLength = 128;
absl::Status ValidateModelName(std::string_view name);
absl::Status ValidateDatasetName(std::string_view name);
// Data sets whose evaluation a model version keeps (metrics.json, /metrics); recording one more
// drops the least recently evaluated.
inline constexpr int kMaxDatasetsPerVersion = 16;

// Class names are shown to people and may be any language, so they are UTF-8 text rather than
// identifiers: non-empty, at most 256 bytes, no control characters; at most 1000 per model
// (per-class metrics and the confusion matrix grow with their square).
inline constexpr size_t kMaxClassNameBytes = 256;
inline constexpr size_t kMaxClasses = 1000;
// `what` names the class in the message, e.g. "class name 3" or "the label of example 17".
absl::Status ValidateClassName(std::string_view name, std::string_view what);
absl::Status ValidateClassNames(std::span<const std::string> names);

}  // namespace textclf
