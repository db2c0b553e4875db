// ModelStatistics: the runtime's per-version counts and latencies, for clients without Prometheus.
#include "absl/strings/str_cat.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"

namespace textclf::server {

grpc::Status ClassifierService::ModelStatistics(grpc::ServerContext*, const v1::ModelStatisticsRequest* request,
                                                v1::ModelStatisticsResponse* response) {
  std::vector<v1::VersionStatistics> versions = deps_.statistics->Snapshot(request->model());
  if (!request->model().empty() && versions.empty()) {
    // A known model that has served nothing yet has empty statistics, not an error.
    auto info = deps_.models->Describe(request->model());
    if (!info.ok()) return ToGrpcStatus(info.status());
  }
  for (auto& v : versions) *response->add_versions() = std::move(v);
  return grpc::Status::OK;
}

}  // namespace textclf::server
