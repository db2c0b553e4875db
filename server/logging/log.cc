#include "server/logging/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/common/warnings.h"

namespace textclf::server::logging {
namespace {

std::mutex configure_mu;
std::shared_ptr<spdlog::logger> current;  // under configure_mu; read through Logger()
std::atomic<bool> json_format{false};

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard<std::mutex> lock(configure_mu);
  if (current == nullptr) {
    current = std::make_shared<spdlog::logger>("textclf", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    current->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    current->set_level(spdlog::level::info);
    current->flush_on(spdlog::level::trace);
  }
  return current;
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarning: return spdlog::level::warn;
    default: return spdlog::level::err;
  }
}

// "key=value" pairs, strings quoted only when they hold spaces, for the text format.
std::string TextFields(const nlohmann::json& fields) {
  std::string out;
  if (!fields.is_object()) return out;
  for (const auto& [key, value] : fields.items()) {
    const std::string dumped = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string v = value.is_string() ? value.get<std::string>() : dumped;
    if (value.is_string() && (v.empty() || v.find_first_of(" \"=\n") != std::string::npos)) v = dumped;
    absl::StrAppend(&out, " ", key, "=", v);
  }
  return out;
}

void CoreWarning(std::string_view event, std::string_view message) {
  Warning(event, {{"message", std::string(message)}});
}

}  // namespace

absl::Status Configure(std::string_view format, std::string_view level) {
  spdlog::level::level_enum spd;
  if (level == "debug") {
    spd = spdlog::level::debug;
  } else if (level == "info") {
    spd = spdlog::level::info;
  } else if (level == "warning") {
    spd = spdlog::level::warn;
  } else if (level == "error") {
    spd = spdlog::level::err;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--log-level must be debug, info, warning or error; got ", std::string(level)));
  }
  if (format != "json" && format != "text") {
    return absl::InvalidArgumentError(absl::StrCat("--log-format must be json or text; got ", std::string(format)));
  }
  auto logger = Logger();
  json_format = format == "json";
  // JSON: spdlog writes the timestamp and level, the rest of the object is the message.
  logger->set_pattern(json_format ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                      spdlog::pattern_time_type::utc);
  logger->set_level(spd);
  SetWarningSink(&CoreWarning);
  return absl::OkStatus();
}

bool Enabled(Level level) { return Logger()->should_log(ToSpd(level)); }

void Log(Level level, std::string_view event, const nlohmann::json& fields) {
  auto logger = Logger();
  const spdlog::level::level_enum spd = ToSpd(level);
  if (!logger->should_log(spd)) return;
  if (json_format) {
    nlohmann::json object = fields.is_object() ? fields : nlohmann::json::object();
    object["event"] = std::string(event);
    // Invalid UTF-8 in a client's value is replaced, never a thrown exception.
    std::string body = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // The object without its braces: the pattern supplies them around ts and level.
    logger->log(spd, std::string_view(body).substr(1, body.size() - 2));
  } else {
    logger->log(spd, absl::StrCat(std::string(event), TextFields(fields)));
  }
}

}  // namespace textclf::server::logging
