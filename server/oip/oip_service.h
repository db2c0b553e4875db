// inference.GRPCInferenceService, the Open Inference Protocol (KServe v2) over gRPC, beside
// textclf.v1.Classifier on the same port. A second front door, not a second path: every call
// passes the same gate (drain, identity and role, read-only), and ModelInfer becomes a Classify
// request (oip_tensors.h) that runs through ClassifierService::RunClassify, with its validation,
// queue, limits and metrics. The model repository extension maps onto the registry (admin role).
#pragma once

#include <functional>

#include "inference/grpc_predict_v2.grpc.pb.h"
#include "server/call_gate.h"
#include "server/classifier_service.h"

namespace textclf::server {

// What both of the protocol's front doors (this gRPC service and server/http) answer about the
// server and its models.
namespace oip {
// Whether model `name` serves `version` ("" the latest); NOT_FOUND or INVALID_ARGUMENT for a
// name or version that never existed, as opposed to one that exists but does not serve.
absl::StatusOr<bool> ModelIsReady(registry::ModelManager& models, const std::string& name, const std::string& version);
// Inputs, outputs, versions and classes of a loaded version.
absl::Status DescribeModel(registry::ModelManager& models, const std::string& name, const std::string& version,
                           inference::ModelMetadataResponse* out);
void DescribeServer(inference::ServerMetadataResponse* out);
}  // namespace oip

class OipService final
    : public inference::GRPCInferenceService::WithCallbackMethod_ModelInfer<inference::GRPCInferenceService::Service> {
 public:
  // `ready` says whether the server takes traffic (the health service's overall entry).
  OipService(CallGate* gate, ClassifierService* classifier, registry::ModelManager* models,
             std::function<bool()> ready, v1::ServerLimits limits)
      : gate_(gate), classifier_(classifier), models_(models), ready_(std::move(ready)), limits_(std::move(limits)) {}

  grpc::Status ServerLive(grpc::ServerContext* c, const inference::ServerLiveRequest* in,
                          inference::ServerLiveResponse* out) override;
  grpc::Status ServerReady(grpc::ServerContext* c, const inference::ServerReadyRequest* in,
                           inference::ServerReadyResponse* out) override;
  grpc::Status ModelReady(grpc::ServerContext* c, const inference::ModelReadyRequest* in,
                          inference::ModelReadyResponse* out) override;
  grpc::Status ServerMetadata(grpc::ServerContext* c, const inference::ServerMetadataRequest* in,
                              inference::ServerMetadataResponse* out) override;
  grpc::Status ModelMetadata(grpc::ServerContext* c, const inference::ModelMetadataRequest* in,
                             inference::ModelMetadataResponse* out) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context, const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;
  grpc::Status RepositoryIndex(grpc::ServerContext* c, const inference::RepositoryIndexRequest* in,
                               inference::RepositoryIndexResponse* out) override;
  grpc::Status RepositoryModelLoad(grpc::ServerContext* c, const inference::RepositoryModelLoadRequest* in,
                                   inference::RepositoryModelLoadResponse* out) override;
  grpc::Status RepositoryModelUnload(grpc::ServerContext* c, const inference::RepositoryModelUnloadRequest* in,
                                     inference::RepositoryModelUnloadResponse* out) override;

 private:
  CallGate* gate_;
  ClassifierService* classifier_;
  registry::ModelManager* models_;
  std::function<bool()> ready_;
  const v1::ServerLimits limits_;
};

}  // namespace textclf::server
