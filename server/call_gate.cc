#include "server/call_gate.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "server/call_note.h"
#include "server/grpc_status.h"
#include "server/oip/oip_tensors.h"
#include "server/logging/log.h"
#include "server/trace_context.h"

namespace textclf::server {
namespace {

constexpr MethodRule kClassify{"Classify", Role::kClient, false};
constexpr MethodRule kTrain{"Train", Role::kAdmin, true};
// Evaluate records metrics with the version, but a read-only replica still evaluates (and
// records nothing): what it answers is the point of the call.
constexpr MethodRule kEvaluate{"Evaluate", Role::kClient, false};
constexpr MethodRule kQuantize{"Quantize", Role::kAdmin, true};
constexpr MethodRule kFeedback{"Feedback", Role::kClient, false};
constexpr MethodRule kModelStatistics{"ModelStatistics", Role::kClient, false};
constexpr MethodRule kListModels{"ListModels", Role::kClient, false};
constexpr MethodRule kGetModel{"GetModel", Role::kClient, false};
// Loading and unloading change what this server serves, not the repository.
constexpr MethodRule kLoadModel{"LoadModel", Role::kAdmin, false};
constexpr MethodRule kUnloadModel{"UnloadModel", Role::kAdmin, false};
constexpr MethodRule kDeleteModel{"DeleteModel", Role::kAdmin, true};

// Whether this call gets a log line of its own, at `rate` (0..1).
bool ShouldLogCall(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  thread_local std::minstd_rand random(std::random_device{}());
  return std::uniform_real_distribution<double>(0, 1)(random) < rate;
}

grpc::Status Refusal() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down; try another replica");
}

constexpr std::string_view kServicePrefix = "/textclf.v1.Classifier/";
// The Open Inference Protocol's ModelInfer is counted beside Classify, as "ModelInfer".
constexpr std::string_view kModelInferMethod = "/inference.GRPCInferenceService/ModelInfer";

class CallTracker final : public grpc::experimental::Interceptor {
 public:
  CallTracker(CallGate* gate, const grpc::ServerContextBase* context, std::string_view method)
      : gate_(gate), context_(context) {
    if (method.substr(0, kServicePrefix.size()) == kServicePrefix) {
      record_.method = std::string(method.substr(kServicePrefix.size()));
    } else if (method == kModelInferMethod) {
      record_.method = "ModelInfer";
    }
  }
  ~CallTracker() override { gate_->CallEnded(context_); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      record_.peer = context_->peer();
      if (auto* metadata = methods->GetRecvInitialMetadata(); metadata != nullptr) {
        auto it = metadata->find("traceparent");
        if (it != metadata->end()) {
          record_.trace_id = TraceIdOf(std::string_view(it->second.data(), it->second.size()));
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) && !seen_request_) {
      seen_request_ = true;
      NoteRequest(methods->GetRecvMessage());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      NoteResponse(methods->GetSendMessage());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      record_.has_status = true;
      record_.code = methods->GetSendStatus().error_code();
      gate_->CallAnswered(record_);
    }
    methods->Proceed();
  }

 private:
  // The model and version a request names, for the methods whose outcomes are counted by model.
  void NoteRequest(const void* message) {
    if (message == nullptr) return;
    if (record_.method == "Classify") {
      const auto* r = static_cast<const v1::ClassifyRequest*>(message);
      record_.model = r->model();
      record_.requested_version = r->version();
    } else if (record_.method == "Feedback") {
      const auto* r = static_cast<const v1::FeedbackRequest*>(message);
      record_.model = r->model();
      record_.requested_version = r->version();
    } else if (record_.method == "Evaluate") {
      const auto* r = static_cast<const v1::EvaluateRequest*>(message);
      record_.model = r->start().model();
      record_.requested_version = r->start().version();
    } else if (record_.method == "ModelInfer") {
      const auto* r = static_cast<const inference::ModelInferRequest*>(message);
      record_.model = r->model_name();
      record_.requested_version = oip::ParseVersion(r->model_version()).value_or(0);
    }
  }
  // The version that answered (a Feedback by request id names its model only in the answer).
  void NoteResponse(const void* message) {
    if (message == nullptr) return;
    if (record_.method == "Classify") {
      const auto* r = static_cast<const v1::ClassifyResponse*>(message);
      record_.model = r->model();
      record_.served_version = r->version();
    } else if (record_.method == "Feedback") {
      const auto* r = static_cast<const v1::FeedbackResponse*>(message);
      record_.model = r->model();
      record_.served_version = r->version();
    } else if (record_.method == "Evaluate") {
      const auto* r = static_cast<const v1::EvaluateResponse*>(message);
      record_.model = r->model();
      record_.served_version = r->version();
    } else if (record_.method == "ModelInfer") {
      const auto* r = static_cast<const inference::ModelInferResponse*>(message);
      record_.model = r->model_name();
      record_.served_version = oip::ParseVersion(r->model_version()).value_or(0);
    }
  }

  CallGate* gate_;
  const grpc::ServerContextBase* context_;
  CallRecord record_;
  bool seen_request_ = false;
};

}  // namespace

grpc::experimental::Interceptor* CallTrackerFactory::CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) {
  return new CallTracker(gate_, info->server_context(), info->method());
}

bool CallGate::CloseAndWait(std::chrono::system_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  open_ = false;
  return idle_.wait_until(lock, deadline, [this] { return running_ == 0; });
}

void CallGate::CallEnded(const grpc::ServerContextBase* context) {
  std::lock_guard<std::mutex> lock(mu_);
  if (admitted_.erase(context) > 0 && --running_ == 0) idle_.notify_all();
}

void CallGate::CallAnswered(const CallRecord& record) {
  if (record.method.empty() || !record.has_status) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - record.started).count();
  // Only names of models this server has become labels: a client's made-up name would otherwise
  // add series (and memory) without end.
  std::string model;
  int64_t version = 0;
  if (options_.models != nullptr && !record.model.empty() && options_.models->Get(record.model, 0).ok()) {
    model = record.model;
    if (record.served_version > 0) {
      version = record.served_version;
    } else if (record.requested_version > 0 && options_.models->Get(record.model, record.requested_version).ok()) {
      version = record.requested_version;
    }
  }
  const auto code = static_cast<absl::StatusCode>(record.code);
  if (options_.observer != nullptr) options_.observer->OnRpcDone(record.method, model, version, code, seconds);
  if (ShouldLogCall(options_.log_calls)) {
    logging::Info("call", {{"rpc", record.method},
                           {"model", model},
                           {"version", version},
                           {"code", std::string(absl::StatusCodeToString(code))},
                           {"duration_ms", seconds * 1000},
                           {"trace_id", record.trace_id},
                           {"peer", record.peer}});
  }
}

grpc::Status CallGate::Check(const std::function<absl::StatusOr<Identity>()>& authorize,
                             const std::function<std::string()>& peer, const MethodRule& rule, std::string* caller) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) return Refusal();
  }
  if (options_.authorizer != nullptr) {
    absl::StatusOr<Identity> identity = authorize();
    if (!identity.ok()) {
      logging::Warning("call_refused", {{"rpc", std::string(rule.name)},
                                        {"code", std::string(absl::StatusCodeToString(identity.status().code()))},
                                        {"peer", peer()}});
      return ToGrpcStatus(identity.status());
    }
    *caller = identity->name;
  }
  if (options_.read_only && rule.changes_repository) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("this server runs with --read-only: ", std::string(rule.name),
                                     " would change the model repository; send it to the server that publishes"));
  }
  return grpc::Status::OK;
}

grpc::Status CallGate::Admit(const grpc::ServerContextBase* context, const MethodRule& rule, std::string* caller) {
  grpc::Status checked = Check([&] { return options_.authorizer->Authorize(*context, rule.role, rule.name); },
                               [context] { return context->peer(); }, rule, caller);
  if (!checked.ok()) return checked;
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return Refusal();
  admitted_.insert(context);
  ++running_;
  return grpc::Status::OK;
}

grpc::Status CallGate::AdmitCaller(const PresentedCredentials& presented, std::string_view peer,
                                   const MethodRule& rule, std::string* caller) {
  grpc::Status checked =
      Check([&] { return options_.authorizer->Authorize(presented, rule.role, rule.name); },
            [peer] { return std::string(peer); }, rule, caller);
  if (!checked.ok()) return checked;
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return Refusal();
  ++running_;
  return grpc::Status::OK;
}

void CallGate::Left() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--running_ == 0) idle_.notify_all();
}

template <typename Run>
grpc::Status CallGate::Gated(grpc::ServerContext* context, const MethodRule& rule, std::string_view model,
                             int64_t version, Run&& run) {
  CallNote& note = ThisCall();
  note = CallNote{};
  if (grpc::Status admitted = Admit(context, rule, &note.caller); !admitted.ok()) return admitted;
  if (!model.empty()) NoteTarget(model, version);
  const auto started = std::chrono::steady_clock::now();
  grpc::Status status = run();
  if (rule.role == Role::kAdmin) {
    const CallNote& done = ThisCall();
    logging::Info("audit", {{"caller", done.caller.empty() ? "anonymous" : done.caller},
                            {"rpc", std::string(rule.name)},
                            {"model", done.model},
                            {"version", done.version},
                            {"code", std::string(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())))},
                            {"duration_ms", std::chrono::duration<double, std::milli>(
                                                std::chrono::steady_clock::now() - started).count()}});
  }
  return status;
}

template <typename Run>
grpc::Status CallGate::GatedStream(grpc::ServerContext* context, const MethodRule& rule, Run&& run) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (streams_ >= options_.max_streams) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat(streams_, " streaming calls (Train, Quantize, Evaluate) are open, the limit "
                                       "(max_concurrent_streams in the server config); retry later"));
    }
    ++streams_;
  }
  grpc::Status status = Gated(context, rule, "", 0, std::forward<Run>(run));
  std::lock_guard<std::mutex> lock(mu_);
  --streams_;
  return status;
}

grpc::Status CallGate::RunGated(grpc::ServerContext* context, const MethodRule& rule, std::string_view model,
                                int64_t version, const std::function<grpc::Status()>& run) {
  return Gated(context, rule, model, version, run);
}

grpc::ServerUnaryReactor* CallGate::Classify(grpc::CallbackServerContext* context, const v1::ClassifyRequest* request,
                                             v1::ClassifyResponse* response) {
  std::string caller;
  if (grpc::Status admitted = Admit(context, kClassify, &caller); !admitted.ok()) {
    grpc::ServerUnaryReactor* refused = context->DefaultReactor();
    refused->Finish(admitted);
    return refused;
  }
  // A callback call ends after this returns; CallEnded (from CallTracker) counts it out.
  return inner_->Classify(context, request, response);
}

grpc::Status CallGate::Train(grpc::ServerContext* c, grpc::ServerReaderWriter<v1::TrainResponse, v1::TrainRequest>* s) {
  return GatedStream(c, kTrain, [&] { return inner_->Train(c, s); });
}
grpc::Status CallGate::Evaluate(grpc::ServerContext* c, grpc::ServerReader<v1::EvaluateRequest>* r,
                                v1::EvaluateResponse* out) {
  return GatedStream(c, kEvaluate, [&] { return inner_->Evaluate(c, r, out); });
}
grpc::Status CallGate::Quantize(grpc::ServerContext* c,
                                grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>* s) {
  return GatedStream(c, kQuantize, [&] { return inner_->Quantize(c, s); });
}
grpc::Status CallGate::Feedback(grpc::ServerContext* c, const v1::FeedbackRequest* in, v1::FeedbackResponse* out) {
  return Gated(c, kFeedback, in->model(), in->version(), [&] { return inner_->Feedback(c, in, out); });
}
grpc::Status CallGate::ModelStatistics(grpc::ServerContext* c, const v1::ModelStatisticsRequest* in,
                                       v1::ModelStatisticsResponse* out) {
  return Gated(c, kModelStatistics, "", 0, [&] { return inner_->ModelStatistics(c, in, out); });
}
grpc::Status CallGate::ListModels(grpc::ServerContext* c, const v1::ListModelsRequest* in, v1::ListModelsResponse* out) {
  return Gated(c, kListModels, "", 0, [&] { return inner_->ListModels(c, in, out); });
}
grpc::Status CallGate::GetModel(grpc::ServerContext* c, const v1::GetModelRequest* in, v1::ModelInfo* out) {
  return Gated(c, kGetModel, in->name(), 0, [&] { return inner_->GetModel(c, in, out); });
}
grpc::Status CallGate::LoadModel(grpc::ServerContext* c, const v1::LoadModelRequest* in, v1::ModelInfo* out) {
  return Gated(c, kLoadModel, in->name(), in->version(), [&] { return inner_->LoadModel(c, in, out); });
}
grpc::Status CallGate::UnloadModel(grpc::ServerContext* c, const v1::UnloadModelRequest* in, v1::ModelInfo* out) {
  return Gated(c, kUnloadModel, in->name(), in->version(), [&] { return inner_->UnloadModel(c, in, out); });
}
grpc::Status CallGate::DeleteModel(grpc::ServerContext* c, const v1::DeleteModelRequest* in,
                                   v1::DeleteModelResponse* out) {
  return Gated(c, kDeleteModel, in->name(), in->version(), [&] { return inner_->DeleteModel(c, in, out); });
}

}  // namespace textclf::server
