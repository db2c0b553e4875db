// The textclf.v1.Classifier gRPC service: adapts requests to core/ and core's results back to
// responses. Each RPC lives in its own file (classify_rpc.cc, train_rpc.cc, ...). Classify uses
// the callback API, so no gRPC thread waits for a model; the long streaming RPCs stay synchronous.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "server/service_deps.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::server {

// What Classify's work needs of the call that asked for it, whatever its protocol.
struct CallContext {
  // When the client stops waiting; max: never.
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  // True once the client has gone; empty: it cannot tell.
  std::function<bool()> is_cancelled;
  std::string trace_id;  // from the W3C traceparent the client sent, or empty

  static CallContext Of(grpc::CallbackServerContext* context);
};

class ClassifierService final : public v1::Classifier::WithCallbackMethod_Classify<v1::Classifier::Service> {
 public:
  explicit ClassifierService(ServiceDeps deps) : deps_(std::move(deps)) {}

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context, const v1::ClassifyRequest* request,
                                     v1::ClassifyResponse* response) override;
  // Classify's work for any front door (Classify, the Open Inference Protocol's ModelInfer, the
  // HTTP port):
  // validates, queues and answers `response`, then calls `finish` exactly once, on the calling
  // thread when refused at once or on a runtime thread. `request` and `response` must live until
  // `finish`. `call` is taken by value: its cancellation check and trace id move into the job.
  void RunClassify(CallContext call, const v1::ClassifyRequest* request,
                   v1::ClassifyResponse* response, std::function<void(const grpc::Status&)> finish);
  grpc::Status Train(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<v1::TrainResponse, v1::TrainRequest>* stream) override;
  grpc::Status Evaluate(grpc::ServerContext* context, grpc::ServerReader<v1::EvaluateRequest>* reader,
                        v1::EvaluateResponse* response) override;
  grpc::Status Quantize(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>* stream) override;
  grpc::Status Feedback(grpc::ServerContext* context, const v1::FeedbackRequest* request,
                        v1::FeedbackResponse* response) override;
  grpc::Status ModelStatistics(grpc::ServerContext* context, const v1::ModelStatisticsRequest* request,
                               v1::ModelStatisticsResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::ModelInfo* response) override;
  grpc::Status LoadModel(grpc::ServerContext* context, const v1::LoadModelRequest* request,
                         v1::ModelInfo* response) override;
  grpc::Status UnloadModel(grpc::ServerContext* context, const v1::UnloadModelRequest* request,
                           v1::ModelInfo* response) override;
  grpc::Status DeleteModel(grpc::ServerContext* context, const v1::DeleteModelRequest* request,
                           v1::DeleteModelResponse* response) override;

 private:
  std::string NextRequestId(const std::string& trace_id);

  ServiceDeps deps_;
  std::atomic<uint64_t> request_counter_{0};
};

}  // namespace textclf::server
