// textclf-server assembled: repository, model manager, CPU pool, job pool and the gRPC server
// with health checking and reflection. Tests run it in-process on a loopback port.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "textclf/v1/server_config.pb.h"

namespace grpc {
class Server;
}

namespace textclf {
class FamilyTable;
class JobPool;
class ThreadPool;
class UploadBudget;
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

// How this process serves, beyond what it serves (ServerConfig): the deployment knobs.
struct ServeOptions {
  // > 0: rescan the repository this often (seconds), loading what appeared and unloading what
  // went (see RepositoryPoller). The repository is then taken as shared with other processes.
  double poll_interval_s = 0;
  // Connections are closed (GOAWAY) after about this long, so that clients reconnect and spread
  // over replicas added since; 0 keeps them open forever.
  double max_connection_age_s = 300;
  // Time calls still running on an aged connection get before it is cut; 0: as long as they
  // need (a Train stream lasts the whole training).
  double max_connection_age_grace_s = 0;
  // The model families this server trains and serves; null: every family built in
  // (core/families). Tests add a family of their own here.
  const FamilyTable* families = nullptr;
};

class Authorizer;
class CallGate;
class ClassifierService;
class HttpFrontDoor;
class RepositoryPoller;
class StreamWatchdog;
class LogObserver;
class MetricsEndpoint;
class ModelHealth;
class OipService;
class PrometheusMetrics;

class Server {
 public:
  // Starts serving; `config` is resolved (defaults filled) here. Port 0 picks a free port.
  static absl::StatusOr<std::unique_ptr<Server>> Start(v1::ServerConfig config, ServeOptions options = {});
  ~Server();

  int port() const { return port_; }
  // The /metrics port, or 0 when metrics are off.
  int metrics_port() const;
  // The HTTP/REST port (server/http), or 0 when it is off.
  int http_port() const;
  const v1::ServerConfig& config() const { return config_; }
  // Problems met while loading models at start; the server serves everything else.
  const std::vector<std::string>& load_failures() const { return load_failures_; }

  // Health turns NOT_SERVING and polling stops; new calls are refused with UNAVAILABLE while
  // in-flight calls get up to `grace_seconds` to finish, after which they are cancelled.
  // Returns true when every call finished in time.
  bool Shutdown(double grace_seconds = 5.0);
  // The first half of Shutdown: health NOT_SERVING, polling stopped, new calls refused with
  // UNAVAILABLE, and a wait of up to `grace_seconds` for the calls in flight; gRPC keeps its
  // connections. True when every call finished. A process that exits right after (textclf-server
  // on SIGTERM) closes its connections, so that calls clients send meanwhile fail UNAVAILABLE.
  bool Drain(double grace_seconds);
  void Wait();
  // Repository scans finished in poll mode (0 otherwise).
  int64_t poll_scans() const;

 private:
  Server() = default;
  // The stages of Start, in order; each sets up the members the next ones use.
  absl::Status StartObservers();
  absl::Status OpenRepository(bool shared_repository);
  void LoadModels(const FamilyTable* families, const ServeOptions& options);
  absl::Status AssembleService(const FamilyTable* families);
  absl::Status StartGrpc(const ServeOptions& options);
  absl::Status StartHttp();

  v1::ServerConfig config_;
  int port_ = 0;
  std::vector<std::string> load_failures_;
  // Declared in dependency order: members are destroyed bottom-up, so the gRPC server stops
  // first, then training jobs, then models (whose queues drain), then the runtime.
  std::unique_ptr<PrometheusMetrics> metrics_;
  std::unique_ptr<runtime::StatisticsCollector> statistics_;
  std::unique_ptr<LogObserver> log_observer_;
  std::unique_ptr<runtime::ObserverList> observers_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<runtime::PredictionLog> predictions_;
  std::unique_ptr<registry::Repository> repository_;
  std::unique_ptr<ThreadPool> cpu_pool_;
  std::unique_ptr<UploadBudget> uploads_;       // outlives the jobs, whose examples it counts
  std::unique_ptr<StreamWatchdog> watchdog_;
  std::unique_ptr<runtime::InferenceRuntime> runtime_;
  std::unique_ptr<registry::ModelManager> models_;
  std::unique_ptr<RepositoryPoller> poller_;
  std::unique_ptr<JobPool> jobs_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<ClassifierService> service_;
  std::unique_ptr<CallGate> gate_;  // what gRPC serves: service_ behind the gate (drain, auth, limits)
  std::unique_ptr<OipService> oip_;  // the Open Inference Protocol's front door, through the same gate
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<ModelHealth> health_;  // stops before the gRPC server it reports through
  std::unique_ptr<HttpFrontDoor> http_;   // stops first: it asks health_ and calls service_
  bool shut_down_ = false;
  bool drained_once_ = false;
  bool drained_ = false;
  std::chrono::system_clock::time_point drain_deadline_;
};

}  // namespace textclf::server
