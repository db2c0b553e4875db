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

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/thread_pool.h"
#include "core/families/families.h"
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
#include "server/call_gate.h"
#include "server/http/http_front_door.h"
#include "server/oip/oip_service.h"
#include "server/logging/log.h"
#include "server/logging/log_observer.h"
#include "server/model_health.h"
#include "textclf/version.h"

#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace textclf::server {


namespace {

// In a shared repository a staging folder younger than this may be another process's publish
// in progress (a training job writes its model files at the end), so it survives our start.
constexpr std::chrono::hours kSharedLeftoverAge{24};

int Milliseconds(double seconds) {
  return seconds <= 0 ? INT_MAX : static_cast<int>(std::min(seconds * 1000.0, static_cast<double>(INT_MAX)));
}

// Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS): enough for
// a load generator's concurrency over one channel, and a bound on what one client holds.
constexpr int kMaxStreamsPerConnection = 1024;

// TLS from files that gRPC watches and re-reads when they change, so a rotated certificate
// (a Kubernetes Secret) is served without a restart; with a client CA, mutual TLS.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const v1::TlsConfig& tls) {
  if (tls.cert_file().empty() && tls.key_file().empty()) {
    if (!tls.client_ca_file().empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file().empty() || tls.key_file().empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  for (const std::string& file : {tls.cert_file(), tls.key_file(), tls.client_ca_file()}) {
    std::error_code ec;
    if (!file.empty() && !std::filesystem::is_regular_file(file, ec)) {
      return absl::NotFoundError(absl::StrCat("cannot read the TLS file ", file));
    }
  }
  const unsigned refresh = static_cast<unsigned>(tls.reload_interval_s() > 0 ? tls.reload_interval_s() : 60);
  auto provider = tls.client_ca_file().empty()
                      ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(tls.key_file(),
                                                                                            tls.cert_file(), refresh)
                      : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            tls.key_file(), tls.cert_file(), tls.client_ca_file(), refresh);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca_file().empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]" || absl::StartsWith(host, "127.");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(v1::ServerConfig config, ServeOptions options) {
  if (options.poll_interval_s < 0) return absl::InvalidArgumentError("the poll interval must not be negative");
  if (options.max_connection_age_s < 0 || options.max_connection_age_grace_s < 0) {
    return absl::InvalidArgumentError("the maximum connection age and its grace must not be negative");
  }
  const bool shared_repository = options.poll_interval_s > 0;
  std::unique_ptr<Server> server(new Server());
  ASSIGN_OR_RETURN(server->config_, ResolveServerConfig(std::move(config)));
  // The composition root: the one place that knows which families there are.
  const FamilyTable* families = options.families != nullptr ? options.families : &BuiltInFamilies();
  RETURN_IF_ERROR(server->StartObservers());
  RETURN_IF_ERROR(server->OpenRepository(shared_repository));
  server->LoadModels(families, options);
  RETURN_IF_ERROR(server->AssembleService(families));
  RETURN_IF_ERROR(server->StartGrpc(options));
  RETURN_IF_ERROR(server->StartHttp());
  return server;
}

// Metrics, statistics and the log hear of everything that follows, loads included.
absl::Status Server::StartObservers() {
  metrics_ = std::make_unique<PrometheusMetrics>(TEXTCLF_VERSION);
  statistics_ = std::make_unique<runtime::StatisticsCollector>();
  observers_ = std::make_unique<runtime::ObserverList>();
  observers_->Add(metrics_.get());
  observers_->Add(statistics_.get());
  log_observer_ = std::make_unique<LogObserver>();
  observers_->Add(log_observer_.get());
  if (config_.metrics_port() >= 0) {
    ASSIGN_OR_RETURN(metrics_endpoint_, MetricsEndpoint::Start(config_.metrics_host(), config_.metrics_port(),
                                                               metrics_->registry(), {metrics_->process()}));
  }
  predictions_ = std::make_unique<runtime::PredictionLog>(config_.feedback_log_texts(), config_.feedback_window());
  return absl::OkStatus();
}

absl::Status Server::OpenRepository(bool shared_repository) {
  repository_ = std::make_unique<registry::Repository>(config_.models_dir());
  if (config_.read_only()) {
    // A read-only replica writes nothing, not even the layout or the clean-up of leftovers: its
    // volume may be mounted read-only, and the one writer (a training Job) owns those.
    std::error_code ec;
    if (!std::filesystem::is_directory(config_.models_dir(), ec)) {
      return absl::NotFoundError(absl::StrCat("--read-only needs an existing model folder; ", config_.models_dir(),
                                              " is not one"));
    }
    return absl::OkStatus();
  }
  return repository_->Initialize(shared_repository ? std::chrono::seconds(kSharedLeftoverAge)
                                                   : std::chrono::seconds(0));
}

// The runtime, then the models it serves; models that fail to load are logged and the rest serve.
void Server::LoadModels(const FamilyTable* families, const ServeOptions& options) {
  // The thread that asks for parallel work (a model instance, a training job) takes part in it,
  // so the pool has one worker fewer than the threads wanted.
  const int threads = config_.threads() > 0 ? config_.threads() : ThreadPool::HardwareThreads();
  cpu_pool_ = std::make_unique<ThreadPool>(std::max(1, threads - 1));
  std::map<std::string, v1::ModelConfig> overrides(config_.model_overrides().begin(), config_.model_overrides().end());
  runtime_ = std::make_unique<runtime::InferenceRuntime>(families, cpu_pool_.get(), observers_.get(),
                                                         std::move(overrides), torch_support::CudaDeviceCount(),
                                                         &torch_support::MakeDeviceContext);
  models_ = std::make_unique<registry::ModelManager>(repository_.get(), families, config_.version_policy(),
                                                     runtime_.get());
  models_->ApplyPolicyToAll(&load_failures_);
  for (const std::string& failure : load_failures_) logging::Warning("model_not_loaded", {{"message", failure}});
  if (options.poll_interval_s > 0) {
    poller_ = std::make_unique<RepositoryPoller>(
        models_.get(),
        std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(options.poll_interval_s * 1000))),
        [](const std::string& line) { logging::Info("poll", {{"message", line}}); });
  }
}

// The RPC handlers with what they need, behind the gate (drain, auth, read-only, stream bounds).
absl::Status Server::AssembleService(const FamilyTable* families) {
  runtime::RuntimeObserver* observers = observers_.get();
  uploads_ = std::make_unique<UploadBudget>(config_.limits().max_buffered_train_bytes());
  watchdog_ = std::make_unique<StreamWatchdog>(std::chrono::seconds(config_.limits().stream_idle_timeout_s()));
  jobs_ = std::make_unique<JobPool>(
      config_.limits().max_concurrent_jobs(), config_.limits().max_queued_jobs(),
      [observers](const std::string& kind, int running) { observers->OnJobsRunning(kind, running); });
  ServiceDeps deps;
  deps.models = models_.get();
  deps.runtime = runtime_.get();
  deps.cpu_pool = cpu_pool_.get();
  deps.jobs = jobs_.get();
  deps.predictions = predictions_.get();
  deps.statistics = statistics_.get();
  deps.observer = observers_.get();
  deps.limits = config_.limits();
  deps.uploads = uploads_.get();
  deps.import_dir = config_.import_dir();
  deps.read_only = config_.read_only();
  deps.watchdog = watchdog_.get();
  ASSIGN_OR_RETURN(authorizer_, Authorizer::Create(config_.auth_tokens_file(), [](const std::string& line) {
                     logging::Info("auth", {{"message", line}});
                   }));
  service_ = std::make_unique<ClassifierService>(deps);
  GateOptions gate;
  gate.max_streams = config_.limits().max_concurrent_streams();
  gate.read_only = config_.read_only();
  gate.authorizer = authorizer_.get();
  gate.observer = observers_.get();
  gate.models = models_.get();
  gate.log_calls = config_.log_call_fraction();
  gate_ = std::make_unique<CallGate>(service_.get(), gate);
  oip_ = std::make_unique<OipService>(gate_.get(), service_.get(), models_.get(),
                                      [this] { return health_ != nullptr && health_->ready(); }, config_.limits());
  return absl::OkStatus();
}

absl::Status Server::StartGrpc(const ServeOptions& options) {
  const v1::ServerConfig& config = config_;
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, Credentials(config.tls()));
  const bool tls = !config.tls().cert_file().empty();
  if (!IsLoopback(config.host()) && !tls && !authorizer_->enabled()) {
    logging::Warning("insecure", {{"message", absl::StrCat(
        "WARNING: serving ", config.host(), " in plaintext with no authentication: anyone who can reach port ",
        config.port(), " can train, overwrite and delete every model. Set --tls-cert/--tls-key and --auth-tokens, "
        "or --host 127.0.0.1")}});
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(config.host(), ":", config.port()), credentials, &port_);
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
  builder.RegisterService(gate_.get());
  builder.RegisterService(oip_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> trackers;
  trackers.push_back(std::make_unique<CallTrackerFactory>(gate_.get()));
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
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.host(), ":", config.port(),
                                               " (in use, or not permitted)"));
  }
  health_ = std::make_unique<ModelHealth>(
      models_.get(), grpc_server_->GetHealthCheckService(), metrics_.get(),
      observers_.get(), config.strict_readiness(), std::chrono::seconds(1));
  return absl::OkStatus();
}

// The HTTP/REST front door, behind the same gate, when --http-port asks for it.
absl::Status Server::StartHttp() {
  if (config_.http_port() < 0) return absl::OkStatus();
  HttpFrontDoorDeps deps;
  deps.gate = gate_.get();
  deps.classifier = service_.get();
  deps.models = models_.get();
  deps.ready = [this] { return health_ != nullptr && health_->ready(); };
  deps.limits = config_.limits();
  ASSIGN_OR_RETURN(http_, HttpFrontDoor::Start(config_, std::move(deps)));
  return absl::OkStatus();
}

Server::~Server() { Shutdown(); }

int Server::metrics_port() const { return metrics_endpoint_ ? metrics_endpoint_->port() : 0; }

int Server::http_port() const { return http_ ? http_->port() : 0; }

int64_t Server::poll_scans() const { return poller_ ? poller_->scans() : 0; }

bool Server::Drain(double grace_seconds) {
  if (drained_once_) return drained_;
  drained_once_ = true;
  health_->StopServing();
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
  // The HTTP port closes (its requests in flight were waited for by the drain).
  if (http_) http_->Stop();
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
