#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/thread_pool.h"
#include "core/jobs/job_pool.h"
#include "core/registry/model_manager.h"
#include "core/registry/repository.h"
#include "server/classifier_service.h"
#include "core/runtime/inference_runtime.h"
#include "core/torch/cuda_devices.h"
#include "core/runtime/prediction_log.h"
#include "core/runtime/statistics_collector.h"
#include "server/metrics/metrics_endpoint.h"
#include "server/metrics/prometheus_metrics.h"
#include "server/server_config.h"

namespace textclf::server {

inline constexpr char kServiceName[] = "textclf.v1.Classifier";


absl::StatusOr<std::unique_ptr<Server>> Server::Start(v1::ServerConfig config) {
  ASSIGN_OR_RETURN(config, ResolveServerConfig(std::move(config)));
  std::unique_ptr<Server> server(new Server());
  server->config_ = config;
  server->metrics_ = std::make_unique<PrometheusMetrics>();
  server->statistics_ = std::make_unique<runtime::StatisticsCollector>();
  server->observers_ = std::make_unique<runtime::ObserverList>();
  server->observers_->Add(server->metrics_.get());
  server->observers_->Add(server->statistics_.get());
  if (config.metrics_port() >= 0) {
    ASSIGN_OR_RETURN(server->metrics_endpoint_,
                     MetricsEndpoint::Start(config.host(), config.metrics_port(), server->metrics_->registry()));
  }
  server->predictions_ = std::make_unique<runtime::PredictionLog>(config.feedback_log_texts(), config.feedback_window());
  server->repository_ = std::make_unique<registry::Repository>(config.models_dir());
  RETURN_IF_ERROR(server->repository_->Initialize());
  // The thread that asks for parallel work (a model instance, a training job) takes part in it,
  // so the pool has one worker fewer than the threads wanted.
  const int threads = config.threads() > 0 ? config.threads() : ThreadPool::HardwareThreads();
  server->cpu_pool_ = std::make_unique<ThreadPool>(std::max(1, threads - 1));
  std::map<std::string, v1::ModelConfig> overrides(config.model_overrides().begin(), config.model_overrides().end());
  server->runtime_ = std::make_unique<runtime::InferenceRuntime>(
      server->cpu_pool_.get(), server->observers_.get(), std::move(overrides), torch_support::CudaDeviceCount(),
      &torch_support::MakeDeviceContext);
  server->models_ = std::make_unique<registry::ModelManager>(server->repository_.get(), config.version_policy(),
                                                             server->runtime_.get());
  server->models_->ApplyPolicyToAll(&server->load_failures_);
  runtime::RuntimeObserver* observers = server->observers_.get();
  server->jobs_ = std::make_unique<JobPool>(config.limits().max_concurrent_jobs(), config.limits().max_queued_jobs(),
                                            [observers](int running) { observers->OnJobsRunning("train", running); });
  ServiceDeps deps;
  deps.models = server->models_.get();
  deps.runtime = server->runtime_.get();
  deps.cpu_pool = server->cpu_pool_.get();
  deps.jobs = server->jobs_.get();
  deps.predictions = server->predictions_.get();
  deps.statistics = server->statistics_.get();
  deps.observer = server->observers_.get();
  deps.limits = config.limits();
  server->service_ = std::make_unique<ClassifierService>(deps);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(config.host(), ":", config.port()), grpc::InsecureServerCredentials(),
                           &server->port_);
  // gRPC shares ports (SO_REUSEPORT) by default: a second server on a busy port would start and
  // silently split the connections. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  // Training batches can be large; the per-text and per-job limits are enforced by the service.
  builder.SetMaxReceiveMessageSize(64 << 20);
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.host(), ":", config.port(),
                                               " (in use, or not permitted)"));
  }
  auto* health = server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus(kServiceName, true);
  health->SetServingStatus("", true);
  return server;
}

Server::~Server() { Shutdown(); }

int Server::metrics_port() const { return metrics_endpoint_ ? metrics_endpoint_->port() : 0; }

void Server::Shutdown(double grace_seconds) {
  if (shut_down_ || grpc_server_ == nullptr) return;
  shut_down_ = true;
  auto* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(kServiceName, false);
  health->SetServingStatus("", false);
  grpc_server_->Shutdown(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000)));
}

void Server::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

}  // namespace textclf::server
