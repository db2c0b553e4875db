#include "server/server_config.h"

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/proto_json.h"
#include "core/common/status_macros.h"

namespace textclf::server {

absl::StatusOr<v1::ServerConfig> LoadServerConfig(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(std::string json, ReadFile(path));
  v1::ServerConfig config;
  RETURN_IF_ERROR(FromJson(json, &config, path.string()));
  return config;
}

absl::StatusOr<v1::ServerConfig> ResolveServerConfig(v1::ServerConfig config) {
  if (config.models_dir().empty()) {
    return absl::InvalidArgumentError("no model repository: pass --models DIR or set models_dir");
  }
  if (!config.has_port()) config.set_port(50051);
  if (config.port() < 0 || config.port() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port must be in [0, 65535], got ", config.port()));
  }
  // Loopback unless told otherwise: a server reachable from the network is a decision.
  if (config.host().empty()) config.set_host("127.0.0.1");
  if (config.metrics_host().empty()) config.set_metrics_host("127.0.0.1");
  if (config.tls().reload_interval_s() < 0) return absl::InvalidArgumentError("tls.reload_interval_s must not be negative");
  if (config.threads() < 0) return absl::InvalidArgumentError("threads must not be negative");
  v1::ServerLimits* limits = config.mutable_limits();
  if (limits->max_text_bytes() == 0) limits->set_max_text_bytes(65536);
  if (limits->max_texts_per_request() == 0) limits->set_max_texts_per_request(4096);
  if (limits->max_train_bytes() == 0) limits->set_max_train_bytes(int64_t{1} << 30);
  if (limits->max_concurrent_jobs() == 0) limits->set_max_concurrent_jobs(2);
  if (limits->max_queued_jobs() == 0) limits->set_max_queued_jobs(8);
  if (limits->max_buffered_train_bytes() == 0) limits->set_max_buffered_train_bytes(2 * limits->max_train_bytes());
  if (limits->max_concurrent_streams() == 0) limits->set_max_concurrent_streams(16);
  if (limits->stream_idle_timeout_s() == 0) limits->set_stream_idle_timeout_s(120);
  if (limits->max_server_threads() == 0) limits->set_max_server_threads(limits->max_concurrent_streams() + 32);
  if (limits->max_job_memory_bytes() == 0) limits->set_max_job_memory_bytes(int64_t{8} << 30);
  if (limits->max_http_body_bytes() == 0) limits->set_max_http_body_bytes(int64_t{64} << 20);
  if (limits->max_text_bytes() < 0 || limits->max_texts_per_request() < 0 ||
      limits->max_train_bytes() < 0 || limits->max_concurrent_jobs() < 0 || limits->max_queued_jobs() < 0 ||
      limits->max_buffered_train_bytes() < 0 || limits->max_concurrent_streams() < 0 ||
      limits->stream_idle_timeout_s() < 0 || limits->max_server_threads() < 0 || limits->max_job_memory_bytes() < 0 ||
      limits->max_http_body_bytes() < 0) {
    return absl::InvalidArgumentError("limits must not be negative");
  }
  if (limits->max_server_threads() <= limits->max_concurrent_streams()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_server_threads (", limits->max_server_threads(), ") must exceed max_concurrent_streams (",
        limits->max_concurrent_streams(), "): the other calls need threads too"));
  }
  if (!config.has_metrics_port()) config.set_metrics_port(9464);
  if (config.metrics_port() < -1 || config.metrics_port() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_port must be in [0, 65535], or -1 for no metrics; got ", config.metrics_port()));
  }
  if (!config.has_http_port()) config.set_http_port(-1);
  if (config.http_port() < -1 || config.http_port() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("http_port must be in [0, 65535], or -1 for no HTTP port; got ", config.http_port()));
  }
  if (config.http_threads() == 0) config.set_http_threads(32);
  if (config.http_threads() < 0 || config.http_threads() > 1024) {
    return absl::InvalidArgumentError(absl::StrCat("http_threads must be in [1, 1024]; got ", config.http_threads()));
  }
  if (config.feedback_log_texts() == 0) config.set_feedback_log_texts(100000);
  if (config.feedback_window() == 0) config.set_feedback_window(1000);
  if (config.feedback_log_texts() < 0 || config.feedback_window() < 0) {
    return absl::InvalidArgumentError("feedback_log_texts and feedback_window must be positive");
  }
  if (config.version_policy().policy_case() == v1::VersionPolicy::POLICY_NOT_SET) {
    config.mutable_version_policy()->set_latest(1);
  }
  return config;
}

}  // namespace textclf::server
