// The server's structured log: one line per event on stderr, either a JSON object (timestamp,
// level, event and the event's fields: model, version, request id, trace id, caller, duration,
// status, ...) or the same as readable text. Timestamps, levels and thread-safe output are
// spdlog's; the fields are serialized by nlohmann::json, so every value is escaped.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace textclf::server::logging {

enum class Level { kDebug, kInfo, kWarning, kError };

// `format` is "json" or "text", `level` one of debug, info, warning, error. Also routes core's
// warnings (core/common/warnings.h) here. Until called, events go to stderr as text at info.
absl::Status Configure(std::string_view format, std::string_view level);

// Whether events of `level` are written (skip building fields otherwise).
bool Enabled(Level level);

// Writes one event; `fields` is a JSON object (or null for none).
void Log(Level level, std::string_view event, const nlohmann::json& fields = nullptr);

inline void Info(std::string_view event, const nlohmann::json& fields = nullptr) { Log(Level::kInfo, event, fields); }
inline void Warning(std::string_view event, const nlohmann::json& fields = nullptr) {
  Log(Level::kWarning, event, fields);
}
inline void Error(std::string_view event, const nlohmann::json& fields = nullptr) { Log(Level::kError, event, fields); }

}  // namespace textclf::server::logging
