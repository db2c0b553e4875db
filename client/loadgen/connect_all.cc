// Waiting for the channels, and asking a channel that did not connect why.
#include "client/loadgen/connect_all.h"

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <sstream>

#include "client/cli_common.h"
#include "client/rpc_error_hint.h"
#include "textclf/health/health.pb.h"

namespace textclf::loadgen {
namespace {

// Why `channel` is not connected, in gRPC's words: a call on a channel that failed to connect
// fails at once with the last connection error (a refused port, a failed TLS handshake), which
// WaitForConnected does not tell.
grpc::Status WhyNotConnected(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::TemplatedGenericStub<health::HealthCheckRequest, health::HealthCheckResponse> stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  health::HealthCheckRequest request;
  health::HealthCheckResponse response;
  std::promise<grpc::Status> answered;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&answered](grpc::Status s) { answered.set_value(std::move(s)); });
  return answered.get_future().get();
}

}  // namespace

ConnectFailure ConnectAll(ChannelPool& pool, const std::vector<std::string>& targets, int connections_per_target,
                          const client::ChannelSecurity& security, double wait_s) {
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
  for (size_t i = 0; i < pool.size(); ++i) {
    if (pool.at(i).channel->WaitForConnected(deadline)) continue;
    ConnectFailure failure;
    std::ostringstream message;
    message << "cannot connect to " << targets[i / connections_per_target] << " within " << wait_s << " s";
    const grpc::Status why = WhyNotConnected(pool.at(i).channel);
    if (!why.ok()) {
      message << ": " << client::StatusCodeName(why.error_code()) << ": " << why.error_message();
      failure.hint = client::RpcErrorHint(why, security, /*timeout_s=*/0);
    }
    failure.message = message.str();
    return failure;
  }
  return {};
}

}  // namespace textclf::loadgen
