// textclf health: one grpc.health.v1 Check, for scripts and container health checks. Exit 0 when
// the server answers SERVING, 1 for anything else (NOT_SERVING while it drains, unreachable,
// unknown service, deadline exceeded).
#include <grpcpp/generic/generic_stub.h>

#include <iostream>
#include <future>
#include <memory>

#include <CLI/CLI.hpp>

#include "client/cli_common.h"
#include "client/commands.h"
#include "textclf/health/health.pb.h"

namespace textclf::client {
namespace {

// This gRPC package ships no health stubs; the method is called by its path with the
// wire-compatible messages of proto/textclf/health.
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
using HealthRequest = health::HealthCheckRequest;
using HealthResponse = health::HealthCheckResponse;

struct HealthOptions {
  ConnectionOptions connection{/*default_timeout_s=*/5};
  std::string service;
  bool quiet = false;
};

int RunHealth(const HealthOptions& o) {
  // A probe that may wait for ever is no probe: health alone refuses --timeout 0.
  if (!(o.connection.timeout_s > 0)) return ReportInputError("--timeout must be positive");
  std::optional<Connection> connection = Connect(o.connection);
  if (!connection) return kExitInputError;
  grpc::TemplatedGenericStub<HealthRequest, HealthResponse> stub(connection->channel);
  grpc::ClientContext context;
  connection->SetDeadline(&context);
  HealthRequest request;
  request.set_service(o.service);
  HealthResponse response;
  // gRPC 1.51's generic stub has only the callback form of a unary call; wait for its answer.
  std::promise<grpc::Status> answered;
  stub.UnaryCall(&context, kHealthCheck, grpc::StubOptions(), &request, &response,
                 [&answered](grpc::Status s) { answered.set_value(std::move(s)); });
  grpc::Status status = answered.get_future().get();
  if (!status.ok()) return connection->ReportError(status);
  const std::string name = HealthResponse::ServingStatus_Name(response.status());
  if (!o.quiet) std::cout << name << "\n";
  if (response.status() != HealthResponse::SERVING) {
    if (o.quiet) std::cerr << "textclf: " << name << "\n";
    return kExitServerError;
  }
  return 0;
}

}  // namespace

void AddHealthCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<HealthOptions>();
  CLI::App* cmd = app.add_subcommand(
      "health", "check the server's gRPC health: prints its status; exit 0 when SERVING, 1 otherwise");
  cmd->add_option("--service", o->service,
                  "service to ask about (\"\": the whole server; textclf.v1.Classifier)")
      ->capture_default_str();
  AddConnectionFlags(cmd, &o->connection, "seconds to wait for the answer");
  cmd->add_flag("--quiet,-q", o->quiet, "print nothing when SERVING");
  cmd->callback([o, exit_code] { *exit_code = RunHealth(*o); });
}

}  // namespace textclf::client
