// textclf-server assembled: repository, model manager, CPU pool, job pool and the gRPC server
// with health checking and reflection. Tests run it in-process on a loopback port.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "textclf/v1/server_config.pb.h"

namespace grpc {
class Server;
}

namespace textclf {
class JobPool;
class ThreadPool;
namespace registry {
class ModelManager;
class Repository;
}  // namespace registry
}  // namespace textclf

namespace textclf::runtime {
class InferenceRuntime;
class ObserverList;
class PredictionLog;
class StatisticsCollector;
}  // namespace textclf::runtime

namespace textclf::server {

class ClassifierService;
class MetricsEndpoint;
class PrometheusMetrics;

class Server {
 public:
  // Starts serving; `config` is resolved (defaults filled) here. Port 0 picks a free port.
  static absl::StatusOr<std::unique_ptr<Server>> Start(v1::ServerConfig config);
  ~Server();

  int port() const { return port_; }
  // The /metrics port, or 0 when metrics are off.
  int metrics_port() const;
  const v1::ServerConfig& config() const { return config_; }
  // Problems met while loading models at start; the server serves everything else.
  const std::vector<std::string>& load_failures() const { return load_failures_; }

  // Health turns NOT_SERVING, then in-flight calls get up to `grace_seconds` to finish.
  void Shutdown(double grace_seconds = 5.0);
  void Wait();

 private:
  Server() = default;

  v1::ServerConfig config_;
  int port_ = 0;
  std::vector<std::string> load_failures_;
  // Declared in dependency order: members are destroyed bottom-up, so the gRPC server stops
  // first, then training jobs, then models (whose queues drain), then the runtime.
  std::unique_ptr<PrometheusMetrics> metrics_;
  std::unique_ptr<runtime::StatisticsCollector> statistics_;
  std::unique_ptr<runtime::ObserverList> observers_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<runtime::PredictionLog> predictions_;
  std::unique_ptr<registry::Repository> repository_;
  std::unique_ptr<ThreadPool> cpu_pool_;
  std::unique_ptr<runtime::InferenceRuntime> runtime_;
  std::unique_ptr<registry::ModelManager> models_;
  std::unique_ptr<JobPool> jobs_;
  std::unique_ptr<ClassifierService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  bool shut_down_ = false;
};

}  // namespace textclf::server
