#include "server/oip/oip_service.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/model/family_names.h"
#include "server/grpc_status.h"
#include "server/oip/oip_tensors.h"
#include "textclf/version.h"

namespace textclf::server {
namespace {

constexpr MethodRule kModelInfer{"ModelInfer", Role::kClient, false};
constexpr MethodRule kModelReady{"ModelReady", Role::kClient, false};
constexpr MethodRule kServerMetadata{"ServerMetadata", Role::kClient, false};
constexpr MethodRule kModelMetadata{"ModelMetadata", Role::kClient, false};
constexpr MethodRule kRepositoryIndex{"RepositoryIndex", Role::kClient, false};
// Loading and unloading change what this server serves, not the repository.
constexpr MethodRule kRepositoryModelLoad{"RepositoryModelLoad", Role::kAdmin, false};
constexpr MethodRule kRepositoryModelUnload{"RepositoryModelUnload", Role::kAdmin, false};

const char* StateName(v1::ModelState state) {
  switch (state) {
    case v1::LOADED: return "READY";
    case v1::LOADING: return "LOADING";
    case v1::FAILED: return "FAILED";
    default: return "UNAVAILABLE";
  }
}

// What one ModelInfer call keeps until it is answered: the Classify request it became and its
// answer.
struct InferCall {
  v1::ClassifyRequest request;
  v1::ClassifyResponse response;
  oip::Outputs outputs;
};

}  // namespace

namespace oip {

absl::StatusOr<bool> ModelIsReady(registry::ModelManager& models, const std::string& name, const std::string& version) {
  ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  auto loaded = models.Get(name, number);
  // A model that exists but does not serve is "not ready"; one that never existed is unknown.
  if (!loaded.ok() && (absl::IsNotFound(loaded.status()) || absl::IsInvalidArgument(loaded.status()))) {
    return loaded.status();
  }
  return loaded.ok();
}

void DescribeServer(inference::ServerMetadataResponse* out) {
  out->set_name("textclf");
  out->set_version(TEXTCLF_VERSION);
  out->add_extensions("model_repository");
}

absl::Status DescribeModel(registry::ModelManager& models, const std::string& name, const std::string& version,
                           inference::ModelMetadataResponse* out) {
  ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  ASSIGN_OR_RETURN(std::shared_ptr<const Model> loaded, models.Get(name, number));
  const Model& model = *loaded;
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, models.families().Find(model.manifest().family()));
  out->set_name(model.name());
  if (auto info = models.Describe(model.name()); info.ok()) {
    for (const auto& v : info->versions()) out->add_versions(absl::StrCat(v.version()));
  }
  out->set_platform(absl::StrCat("textclf_", FamilyName(model.manifest().family())));
  auto* input = out->add_inputs();
  if (family->examples.tensors) {
    input->set_name("image");
    input->set_datatype("FP32");
    for (int i = 0; i < 4; ++i) input->add_shape(-1);  // [N, C, H, W]; UINT8 is taken too
  } else {
    input->set_name(kTextInput);
    input->set_datatype("BYTES");
    input->add_shape(-1);
  }
  auto* label = out->add_outputs();
  label->set_name(kLabelOutput);
  label->set_datatype("BYTES");
  label->add_shape(-1);
  auto* probability = out->add_outputs();
  probability->set_name(kProbabilityOutput);
  probability->set_datatype("FP32");
  probability->add_shape(-1);
  // The classes, in the order of the probabilities' columns.
  auto* probabilities = out->add_outputs();
  probabilities->set_name(kProbabilitiesOutput);
  probabilities->set_datatype("FP32");
  probabilities->add_shape(-1);
  probabilities->add_shape(static_cast<int64_t>(model.num_classes()));
  for (const std::string& class_name : model.manifest().classes()) out->add_classes(class_name);
  return absl::OkStatus();
}

}  // namespace oip

// Liveness and readiness answer whoever asks, as the health service does: probes carry no token.
grpc::Status OipService::ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                                    inference::ServerLiveResponse* out) {
  out->set_live(true);
  return grpc::Status::OK;
}

grpc::Status OipService::ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                                     inference::ServerReadyResponse* out) {
  out->set_ready(ready_());
  return grpc::Status::OK;
}

grpc::Status OipService::ModelReady(grpc::ServerContext* c, const inference::ModelReadyRequest* in,
                                    inference::ModelReadyResponse* out) {
  return gate_->RunGated(c, kModelReady, in->name(), 0, [&] {
    absl::StatusOr<bool> ready = oip::ModelIsReady(*models_, in->name(), in->version());
    if (!ready.ok()) return ToGrpcStatus(ready.status());
    out->set_ready(*ready);
    return grpc::Status::OK;
  });
}

grpc::Status OipService::ServerMetadata(grpc::ServerContext* c, const inference::ServerMetadataRequest*,
                                        inference::ServerMetadataResponse* out) {
  return gate_->RunGated(c, kServerMetadata, "", 0, [&] {
    oip::DescribeServer(out);
    return grpc::Status::OK;
  });
}

grpc::Status OipService::ModelMetadata(grpc::ServerContext* c, const inference::ModelMetadataRequest* in,
                                       inference::ModelMetadataResponse* out) {
  return gate_->RunGated(c, kModelMetadata, in->name(), 0,
                         [&] { return ToGrpcStatus(oip::DescribeModel(*models_, in->name(), in->version(), out)); });
}

grpc::ServerUnaryReactor* OipService::ModelInfer(grpc::CallbackServerContext* context,
                                                 const inference::ModelInferRequest* request,
                                                 inference::ModelInferResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string caller;
  if (grpc::Status admitted = gate_->Admit(context, kModelInfer, &caller); !admitted.ok()) {
    reactor->Finish(admitted);
    return reactor;
  }
  auto call = std::make_shared<InferCall>();
  absl::StatusOr<v1::ClassifyRequest> converted = oip::ToClassifyRequest(*request, limits_, &call->outputs);
  if (!converted.ok()) {
    reactor->Finish(ToGrpcStatus(converted.status()));
    return reactor;
  }
  call->request = *std::move(converted);
  classifier_->RunClassify(CallContext::Of(context), &call->request, &call->response,
                           [call, reactor, request, response](const grpc::Status& status) {
                             if (status.ok()) oip::ToModelInferResponse(*request, call->response, call->outputs, response);
                             reactor->Finish(status);
                           });
  return reactor;
}

grpc::Status OipService::RepositoryIndex(grpc::ServerContext* c, const inference::RepositoryIndexRequest* in,
                                         inference::RepositoryIndexResponse* out) {
  return gate_->RunGated(c, kRepositoryIndex, "", 0, [&] {
    for (const auto& state : models_->States()) {
      if (in->ready() && state.state != v1::LOADED) continue;
      auto* m = out->add_models();
      m->set_name(state.model);
      m->set_version(absl::StrCat(state.version));
      m->set_state(StateName(state.state));
      m->set_reason(state.message);
    }
    return grpc::Status::OK;
  });
}

grpc::Status OipService::RepositoryModelLoad(grpc::ServerContext* c, const inference::RepositoryModelLoadRequest* in,
                                             inference::RepositoryModelLoadResponse*) {
  return gate_->RunGated(c, kRepositoryModelLoad, in->model_name(), 0,
                         [&] { return ToGrpcStatus(models_->Load(in->model_name(), 0).status()); });
}

grpc::Status OipService::RepositoryModelUnload(grpc::ServerContext* c,
                                               const inference::RepositoryModelUnloadRequest* in,
                                               inference::RepositoryModelUnloadResponse*) {
  return gate_->RunGated(c, kRepositoryModelUnload, in->model_name(), 0,
                         [&] { return ToGrpcStatus(models_->Unload(in->model_name(), 0).status()); });
}

}  // namespace textclf::server
