// The standard grpc.health.v1 service called from a test by method path (this gRPC package ships
// no client stubs), with the wire-compatible messages of proto/textclf/health.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <memory>
#include <string>

#include "textclf/health/health.pb.h"

namespace textclf::testing {

// HealthStatus::SERVING, HealthStatus::NOT_SERVING, ...
using HealthStatus = health::HealthCheckResponse;

// One Check of `service` ("" is the whole server), with a 10 s deadline.
grpc::Status CheckHealth(grpc::Channel* channel, const std::string& service, health::HealthCheckResponse* response);

// Opens a Watch of `service` under `context` (which sets its deadline and cancels it); the
// stream answers the current status, then each change.
std::unique_ptr<grpc::ClientReader<health::HealthCheckResponse>> WatchHealth(grpc::Channel* channel,
                                                                             grpc::ClientContext* context,
                                                                             const std::string& service);

}  // namespace textclf::testing
