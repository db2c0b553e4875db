#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/thread_pool.h"
#include "core/jobs/job_pool.h"
#include "core/jobs/upload_budget.h"
#include "core/registry/model_manager.h"
#include "core/registry/repository.h"
#include "server/classifier_service.h"
#include "core/runtime/inference_runtime.h"
#include "core/torch/cuda_devices.h"
#include "core/runtime/prediction_log.h"
#include "core/runtime/statistics_collector.h"
#include "server/metrics/metrics_endpoint.h"
#include "server/metrics/prometheus_metrics.h"
#include "server/repository_poller.h"
#include "server/server_config.h"
#include "server/stream_watchdog.h"
#include <grpcpp/resource_quota.h>

namespace textclf::server {

inline constexpr char kServiceName[] = "textclf.v1.Classifier";

namespace {

// In a shared repository a staging folder younger than this may be another process's publish
// in progress (a training job writes its model files at the end), so it survives our start.
constexpr std::chrono::hours kSharedLeftoverAge{24};

int Milliseconds(double seconds) {
  return seconds <= 0 ? INT_MAX : static_cast<int>(std::min(seconds * 1000.0, static_cast<double>(INT_MAX)));
}

}  // namespace

// Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS): enough for
// a load generator's concurrency over one channel, and a bound on what one client holds.
constexpr int kMaxStreamsPerConnection = 1024;

// What gRPC registers in place of ClassifierService: the same methods behind a gate that a drain
// closes. The gate also bounds the streaming calls (Train, Quantize, Evaluate) open at once:
// each holds a thread and, while uploading, memory, so one past the bound is refused before
// anything is read. grpc::Server::Shutdown alone is no drain: once it runs, a call a client sends on its
// open connection before the server's GOAWAY reaches it is killed with CANCELLED, which no client
// can safely retry (it cannot tell the call did not run). So a drain closes this gate first, with
// gRPC still serving: new calls are answered UNAVAILABLE before they run (safe to retry on another
// replica) and calls in flight go on; grpc::Server::Shutdown comes when they are done.
class DrainingService final : public v1::Classifier::WithCallbackMethod_Classify<v1::Classifier::Service> {
 public:
  DrainingService(ClassifierService* inner, int max_streams) : inner_(inner), max_streams_(max_streams) {}

  // Closes the gate and waits, up to `deadline`, until no call that passed it still runs; true
  // when none does.
  bool CloseAndWait(std::chrono::system_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    open_ = false;
    return idle_.wait_until(lock, deadline, [this] { return running_ == 0; });
  }

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context, const v1::ClassifyRequest* request,
                                     v1::ClassifyResponse* response) override {
    bool admitted = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (open_) {
        // A callback call ends after this returns; CallEnded (from CallTracker) counts it out.
        admitted_.insert(static_cast<const grpc::ServerContextBase*>(context));
        ++running_;
        admitted = true;
      }
    }
    if (!admitted) {
      grpc::ServerUnaryReactor* refused = context->DefaultReactor();
      refused->Finish(Refusal());
      return refused;
    }
    return inner_->Classify(context, request, response);
  }
  // Every call's end (see CallTracker); only admitted calls count.
  void CallEnded(const grpc::ServerContextBase* context) {
    std::lock_guard<std::mutex> lock(mu_);
    if (admitted_.erase(context) > 0 && --running_ == 0) idle_.notify_all();
  }
  grpc::Status Train(grpc::ServerContext* c, grpc::ServerReaderWriter<v1::TrainResponse, v1::TrainRequest>* s) override {
    return GatedStream(c, [&] { return inner_->Train(c, s); });
  }
  grpc::Status Evaluate(grpc::ServerContext* c, grpc::ServerReader<v1::EvaluateRequest>* r,
                        v1::EvaluateResponse* out) override {
    return GatedStream(c, [&] { return inner_->Evaluate(c, r, out); });
  }
  grpc::Status Quantize(grpc::ServerContext* c,
                        grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>* s) override {
    return GatedStream(c, [&] { return inner_->Quantize(c, s); });
  }
  grpc::Status Feedback(grpc::ServerContext* c, const v1::FeedbackRequest* in, v1::FeedbackResponse* out) override {
    return Gated(c, [&] { return inner_->Feedback(c, in, out); });
  }
  grpc::Status ModelStatistics(grpc::ServerContext* c, const v1::ModelStatisticsRequest* in,
                               v1::ModelStatisticsResponse* out) override {
    return Gated(c, [&] { return inner_->ModelStatistics(c, in, out); });
  }
  grpc::Status ListModels(grpc::ServerContext* c, const v1::ListModelsRequest* in, v1::ListModelsResponse* out) override {
    return Gated(c, [&] { return inner_->ListModels(c, in, out); });
  }
  grpc::Status GetModel(grpc::ServerContext* c, const v1::GetModelRequest* in, v1::ModelInfo* out) override {
    return Gated(c, [&] { return inner_->GetModel(c, in, out); });
  }
  grpc::Status LoadModel(grpc::ServerContext* c, const v1::LoadModelRequest* in, v1::ModelInfo* out) override {
    return Gated(c, [&] { return inner_->LoadModel(c, in, out); });
  }
  grpc::Status UnloadModel(grpc::ServerContext* c, const v1::UnloadModelRequest* in, v1::ModelInfo* out) override {
    return Gated(c, [&] { return inner_->UnloadModel(c, in, out); });
  }
  grpc::Status DeleteModel(grpc::ServerContext* c, const v1::DeleteModelRequest* in,
                           v1::DeleteModelResponse* out) override {
    return Gated(c, [&] { return inner_->DeleteModel(c, in, out); });
  }

 private:
  static grpc::Status Refusal() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down; try another replica");
  }
  // A call counts as running until gRPC tears it down (CallEnded, from CallTracker), not until
  // its handler returns: the status still has to be sent then, and a drained server exits.
  template <typename Run>
  grpc::Status Gated(grpc::ServerContext* context, Run&& run) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!open_) return Refusal();
      admitted_.insert(static_cast<const grpc::ServerContextBase*>(context));
      ++running_;
    }
    return run();
  }
  template <typename Run>
  grpc::Status GatedStream(grpc::ServerContext* context, Run&& run) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (streams_ >= max_streams_) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat(streams_, " streaming calls (Train, Quantize, Evaluate) are open, the limit "
                                         "(max_concurrent_streams in the server config); retry later"));
      }
      ++streams_;
    }
    grpc::Status status = Gated(context, std::forward<Run>(run));
    std::lock_guard<std::mutex> lock(mu_);
    --streams_;
    return status;
  }

  ClassifierService* inner_;
  const int max_streams_;
  int streams_ = 0;  // streaming calls in their handlers
  std::mutex mu_;
  std::condition_variable idle_;
  bool open_ = true;
  int running_ = 0;
  std::set<const grpc::ServerContextBase*> admitted_;  // calls let in and not yet torn down
};

// Tells the gate when a call ends: gRPC destroys a call's interceptors with the call, after the
// reactor of a callback method is done, which nothing else in a callback handler observes.
class CallTracker final : public grpc::experimental::Interceptor {
 public:
  CallTracker(DrainingService* gate, const grpc::ServerContextBase* context) : gate_(gate), context_(context) {}
  ~CallTracker() override { gate_->CallEnded(context_); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override { methods->Proceed(); }

 private:
  DrainingService* gate_;
  const grpc::ServerContextBase* context_;
};

class CallTrackerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallTrackerFactory(DrainingService* gate) : gate_(gate) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new CallTracker(gate_, info->server_context());
  }

 private:
  DrainingService* gate_;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(v1::ServerConfig config, ServeOptions options) {
  if (options.poll_interval_s < 0) return absl::InvalidArgumentError("the poll interval must not be negative");
  if (options.max_connection_age_s < 0 || options.max_connection_age_grace_s < 0) {
    return absl::InvalidArgumentError("the maximum connection age and its grace must not be negative");
  }
  const bool shared_repository = options.poll_interval_s > 0;
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
  RETURN_IF_ERROR(server->repository_->Initialize(shared_repository ? std::chrono::seconds(kSharedLeftoverAge)
                                                                    : std::chrono::seconds(0)));
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
  if (shared_repository) {
    server->poller_ = std::make_unique<RepositoryPoller>(
        server->models_.get(),
        std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(options.poll_interval_s * 1000))),
        [](const std::string& line) { std::cerr << "textclf-server: " << line << std::endl; });
  }
  runtime::RuntimeObserver* observers = server->observers_.get();
  server->uploads_ = std::make_unique<UploadBudget>(config.limits().max_buffered_train_bytes());
  server->watchdog_ =
      std::make_unique<StreamWatchdog>(std::chrono::seconds(config.limits().stream_idle_timeout_s()));
  server->jobs_ = std::make_unique<JobPool>(
      config.limits().max_concurrent_jobs(), config.limits().max_queued_jobs(),
      [observers](const std::string& kind, int running) { observers->OnJobsRunning(kind, running); });
  ServiceDeps deps;
  deps.models = server->models_.get();
  deps.runtime = server->runtime_.get();
  deps.cpu_pool = server->cpu_pool_.get();
  deps.jobs = server->jobs_.get();
  deps.predictions = server->predictions_.get();
  deps.statistics = server->statistics_.get();
  deps.observer = server->observers_.get();
  deps.limits = config.limits();
  deps.uploads = server->uploads_.get();
  deps.watchdog = server->watchdog_.get();
  server->service_ = std::make_unique<ClassifierService>(deps);
  server->gate_ = std::make_unique<DrainingService>(server->service_.get(), config.limits().max_concurrent_streams());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(config.host(), ":", config.port()), grpc::InsecureServerCredentials(),
                           &server->port_);
  // gRPC shares ports (SO_REUSEPORT) by default: a second server on a busy port would start and
  // silently split the connections. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // HTTP/2 keeps one connection per client for as long as it lives, so an L4 balancer (or a
  // client resolving a headless service once) pins each client to the replica it first reached.
  // Ageing connections out makes clients reconnect and spread over replicas added since.
  if (options.max_connection_age_s > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, Milliseconds(options.max_connection_age_s));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               Milliseconds(options.max_connection_age_grace_s));
  }
  builder.RegisterService(server->gate_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> trackers;
  trackers.push_back(std::make_unique<CallTrackerFactory>(server->gate_.get()));
  builder.experimental().SetInterceptorCreators(std::move(trackers));
  // Training batches can be large; the per-text and per-job limits are enforced by the service.
  builder.SetMaxReceiveMessageSize(64 << 20);
  // Every call but Classify (callback API) holds a gRPC thread while it runs: bound them, so that
  // idle or slow clients cannot make the process spawn threads without end (gRPC refuses calls
  // beyond the bound with RESOURCE_EXHAUSTED). Streams are bounded tighter by the gate.
  grpc::ResourceQuota quota("textclf-server");
  quota.SetMaxThreads(config.limits().max_server_threads());
  builder.SetResourceQuota(quota);
  // Keepalive finds peers that vanished without closing their connection (a crashed client, a
  // dropped network path), whose calls would otherwise hold their streams forever.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
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

int64_t Server::poll_scans() const { return poller_ ? poller_->scans() : 0; }

bool Server::Drain(double grace_seconds) {
  if (drained_once_) return drained_;
  drained_once_ = true;
  auto* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(kServiceName, false);
  health->SetServingStatus("", false);
  // A draining replica loads nothing more.
  if (poller_) poller_->Stop();
  drain_deadline_ =
      std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000));
  // New calls are refused with UNAVAILABLE from here on, while those in flight finish.
  drained_ = gate_->CloseAndWait(drain_deadline_);
  return drained_;
}

bool Server::Shutdown(double grace_seconds) {
  if (shut_down_ || grpc_server_ == nullptr) return true;
  shut_down_ = true;
  Drain(grace_seconds);
  // Then gRPC stops: GOAWAY to every client, the listener closes, and whatever still runs at the
  // deadline is cancelled. A call a client sends before the GOAWAY reaches it ends CANCELLED
  // (gRPC kills calls that arrive during its shutdown); textclf-server avoids that by exiting
  // after Drain instead (see server/main.cc).
  grpc_server_->Shutdown(drain_deadline_);
  return drained_;
}

void Server::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

}  // namespace textclf::server
