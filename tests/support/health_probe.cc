#include "tests/support/health_probe.h"

#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>  // serializes the protobuf messages for the calls
#include <grpcpp/support/sync_stream.h>

#include <chrono>

namespace textclf::testing {
namespace {

constexpr char kCheck[] = "/grpc.health.v1.Health/Check";
constexpr char kWatch[] = "/grpc.health.v1.Health/Watch";

}  // namespace

grpc::Status CheckHealth(grpc::Channel* channel, const std::string& service, health::HealthCheckResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  health::HealthCheckRequest request;
  request.set_service(service);
  return grpc::internal::BlockingUnaryCall<health::HealthCheckRequest, health::HealthCheckResponse,
                                           grpc::protobuf::MessageLite, grpc::protobuf::MessageLite>(
      channel, grpc::internal::RpcMethod(kCheck, grpc::internal::RpcMethod::NORMAL_RPC), &context, request, response);
}

std::unique_ptr<grpc::ClientReader<health::HealthCheckResponse>> WatchHealth(grpc::Channel* channel,
                                                                             grpc::ClientContext* context,
                                                                             const std::string& service) {
  health::HealthCheckRequest request;
  request.set_service(service);
  return std::unique_ptr<grpc::ClientReader<health::HealthCheckResponse>>(
      grpc::internal::ClientReaderFactory<health::HealthCheckResponse>::Create(
          channel, grpc::internal::RpcMethod(kWatch, grpc::internal::RpcMethod::SERVER_STREAMING), context, request));
}

}  // namespace textclf::testing
