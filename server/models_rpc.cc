// Model management RPCs: list, describe, load, unload and delete versions.
#include "server/classifier_service.h"
#include "server/grpc_status.h"

namespace textclf::server {

grpc::Status ClassifierService::ListModels(grpc::ServerContext*, const v1::ListModelsRequest*,
                                           v1::ListModelsResponse* response) {
  auto models = deps_.models->List();
  if (!models.ok()) return ToGrpcStatus(models.status());
  for (auto& info : *models) *response->add_models() = std::move(info);
  return grpc::Status::OK;
}

grpc::Status ClassifierService::GetModel(grpc::ServerContext*, const v1::GetModelRequest* request,
                                         v1::ModelInfo* response) {
  auto info = deps_.models->Describe(request->name());
  if (!info.ok()) return ToGrpcStatus(info.status());
  *response = std::move(*info);
  return grpc::Status::OK;
}

grpc::Status ClassifierService::LoadModel(grpc::ServerContext*, const v1::LoadModelRequest* request,
                                          v1::ModelInfo* response) {
  if (request->version() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "version must be positive, or 0 for the latest");
  }
  auto info = deps_.models->Load(request->name(), request->version());
  if (!info.ok()) return ToGrpcStatus(info.status());
  *response = std::move(*info);
  return grpc::Status::OK;
}

grpc::Status ClassifierService::UnloadModel(grpc::ServerContext*, const v1::UnloadModelRequest* request,
                                            v1::ModelInfo* response) {
  if (request->version() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "version must be positive, or 0 for all");
  }
  auto info = deps_.models->Unload(request->name(), request->version());
  if (!info.ok()) return ToGrpcStatus(info.status());
  *response = std::move(*info);
  return grpc::Status::OK;
}

grpc::Status ClassifierService::DeleteModel(grpc::ServerContext*, const v1::DeleteModelRequest* request,
                                            v1::DeleteModelResponse* response) {
  if (request->version() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "version must be positive, or 0 for all");
  }
  auto deleted = deps_.models->Delete(request->name(), request->version());
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  for (int64_t v : *deleted) response->add_deleted_versions(v);
  return grpc::Status::OK;
}

}  // namespace textclf::server
