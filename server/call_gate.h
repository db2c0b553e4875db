// What gRPC registers in place of ClassifierService: the same methods behind one gate that every
// call passes before any work, in this order:
//   1. drain: a closed gate answers UNAVAILABLE (safe to retry on another replica);
//   2. identity: with --auth-tokens, UNAUTHENTICATED without credentials the file knows and
//      PERMISSION_DENIED for a client-role caller of an admin method;
//   3. --read-only: FAILED_PRECONDITION for calls that change the repository;
//   4. streams: at most max_concurrent_streams Train/Quantize/Evaluate calls at once, each holds
//      a thread and, while uploading, memory;
// and every admin call leaves one audit line (caller, method, model, version, outcome).
//
// grpc::Server::Shutdown alone is no drain: once it runs, a call a client sends on its open
// connection before the server's GOAWAY reaches it is killed with CANCELLED, which no client can
// safely retry (it cannot tell the call did not run). So a drain closes this gate first, with
// gRPC still serving: new calls are refused while calls in flight go on; grpc::Server::Shutdown
// comes when they are done.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string_view>

#include "core/registry/model_manager.h"
#include "core/runtime/runtime_observer.h"
#include "server/auth/authorizer.h"
#include "server/classifier_service.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::server {

// What a method needs.
struct MethodRule {
  std::string_view name;
  Role role;
  bool changes_repository;
};

struct GateOptions {
  int max_streams = 16;
  bool read_only = false;
  Authorizer* authorizer = nullptr;  // null: everyone is an admin
  // Where every call's outcome goes (may be null), and what decides which model names are
  // known enough to become labels.
  runtime::RuntimeObserver* observer = nullptr;
  registry::ModelManager* models = nullptr;
  // The fraction of calls that get a log line of their own (0: none, 1: every call).
  double log_calls = 0;
};

// What the call tracker saw of one call, for its accounting when it ends.
struct CallRecord {
  std::string method;           // "Classify", ... ; empty for other services' calls
  std::string model;            // as the request named it
  int64_t requested_version = 0;
  int64_t served_version = 0;   // from the response, when one was sent
  std::string trace_id;         // from the W3C traceparent metadata, when sent
  std::string peer;
  bool has_status = false;
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class CallGate final : public v1::Classifier::WithCallbackMethod_Classify<v1::Classifier::Service> {
 public:
  CallGate(ClassifierService* inner, GateOptions options) : inner_(inner), options_(options) {}

  // Closes the gate and waits, up to `deadline`, until no call that passed it still runs; true
  // when none does.
  bool CloseAndWait(std::chrono::system_clock::time_point deadline);
  // A call's status is about to be sent (see CallTracker): reports its outcome, refusals
  // included, to the observer and the log. Counting here, not when the call is destroyed, means
  // a client that holds its answer also sees it counted.
  void CallAnswered(const CallRecord& record);
  // A call is gone: counts it out of the running calls if it was admitted.
  void CallEnded(const grpc::ServerContextBase* context);

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context, const v1::ClassifyRequest* request,
                                     v1::ClassifyResponse* response) override;
  grpc::Status Train(grpc::ServerContext* c, grpc::ServerReaderWriter<v1::TrainResponse, v1::TrainRequest>* s) override;
  grpc::Status Evaluate(grpc::ServerContext* c, grpc::ServerReader<v1::EvaluateRequest>* r,
                        v1::EvaluateResponse* out) override;
  grpc::Status Quantize(grpc::ServerContext* c,
                        grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>* s) override;
  grpc::Status Feedback(grpc::ServerContext* c, const v1::FeedbackRequest* in, v1::FeedbackResponse* out) override;
  grpc::Status ModelStatistics(grpc::ServerContext* c, const v1::ModelStatisticsRequest* in,
                               v1::ModelStatisticsResponse* out) override;
  grpc::Status ListModels(grpc::ServerContext* c, const v1::ListModelsRequest* in, v1::ListModelsResponse* out) override;
  grpc::Status GetModel(grpc::ServerContext* c, const v1::GetModelRequest* in, v1::ModelInfo* out) override;
  grpc::Status LoadModel(grpc::ServerContext* c, const v1::LoadModelRequest* in, v1::ModelInfo* out) override;
  grpc::Status UnloadModel(grpc::ServerContext* c, const v1::UnloadModelRequest* in, v1::ModelInfo* out) override;
  grpc::Status DeleteModel(grpc::ServerContext* c, const v1::DeleteModelRequest* in,
                           v1::DeleteModelResponse* out) override;

  // For the other front doors (server/oip): steps 1 to 3 for `context`; OK lets the call in (and
  // counts it as running).
  grpc::Status Admit(const grpc::ServerContextBase* context, const MethodRule& rule, std::string* caller);
  // For calls of another protocol (server/http): the same steps 1 to 3 for what the caller
  // presents; OK counts the call as running until it calls Left.
  grpc::Status AdmitCaller(const PresentedCredentials& presented, std::string_view peer, const MethodRule& rule,
                           std::string* caller);
  void Left();
  // Admits, runs a synchronous handler and writes the audit line of admin calls.
  grpc::Status RunGated(grpc::ServerContext* context, const MethodRule& rule, std::string_view model, int64_t version,
                        const std::function<grpc::Status()>& run);

 private:
  // Steps 1 to 3, with `authorize` for step 2; OK when the call may run (not yet counted).
  grpc::Status Check(const std::function<absl::StatusOr<Identity>()>& authorize,
                     const std::function<std::string()>& peer, const MethodRule& rule, std::string* caller);
  // Admits, runs a synchronous handler and writes the audit line of admin calls.
  template <typename Run>
  grpc::Status Gated(grpc::ServerContext* context, const MethodRule& rule, std::string_view model, int64_t version,
                     Run&& run);
  template <typename Run>
  grpc::Status GatedStream(grpc::ServerContext* context, const MethodRule& rule, Run&& run);

  ClassifierService* inner_;
  const GateOptions options_;
  std::mutex mu_;
  std::condition_variable idle_;
  bool open_ = true;
  int running_ = 0;
  int streams_ = 0;                                    // streaming calls in their handlers
  std::set<const grpc::ServerContextBase*> admitted_;  // calls let in and not yet torn down
};

// Tells the gate when a call ends: gRPC destroys a call's interceptors with the call, after the
// reactor of a callback method is done, which nothing else in a callback handler observes.
// It also records, for the accounting, the model a call named, the version that answered, the
// trace id it carried and its final status, from one place whatever the method.
class CallTrackerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallTrackerFactory(CallGate* gate) : gate_(gate) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallGate* gate_;
};

}  // namespace textclf::server
