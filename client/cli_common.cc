#include "client/cli_common.h"

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "client/rpc_error_hint.h"
#include "google/protobuf/util/json_util.h"

namespace textclf::client {

void AddConnectionFlags(CLI::App* cmd, ConnectionOptions* o, const std::string& timeout_help) {
  // The environment is read here rather than by CLI11's envname: `models` shares one options
  // object among its sub-commands, and CLI11 would apply the variable through each unused one,
  // over a --server given to the one that runs.
  if (const char* server = std::getenv(kServerEnvironmentVariable); server != nullptr && *server != '\0') {
    o->server = server;
  }
  cmd->add_option("--server", o->server,
                  std::string("server address HOST:PORT (default: $") + kServerEnvironmentVariable + ", else " +
                      kDefaultServer + ")")
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout_s, timeout_help)
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  AddSecurityFlags(*cmd, o->security);
}

std::optional<Connection> Connect(const ConnectionOptions& options) {
  absl::StatusOr<ChannelSecurity> security =
      ChannelSecurity::Load(options.security, std::getenv(kTokenEnvironmentVariable));
  if (!security.ok()) {
    ReportInputError(std::string(security.status().message()));
    return std::nullopt;
  }
  if (security->ExposesTokenTo(options.server)) {
    std::cerr << "textclf: warning: sending the token to " << options.server
              << " without TLS: anyone on the network path can read it (--tls-ca FILE)\n";
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  Connection c;
  c.channel = security->CreateChannel(options.server, args);
  c.stub = v1::Classifier::NewStub(c.channel);
  c.security = std::move(*security);
  c.timeout_s = options.timeout_s;
  return c;
}

void Connection::SetDeadline(grpc::ClientContext* context) const {
  if (timeout_s <= 0) return;
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6)));
}

int Connection::ReportError(const grpc::Status& status) const {
  ReportRpcError(status);
  if (std::string hint = RpcErrorHint(status, security, timeout_s); !hint.empty()) {
    std::cerr << "textclf: hint: " << hint << "\n";
  }
  return kExitServerError;
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

int ReportRpcError(const grpc::Status& status) {
  std::cerr << "textclf: " << StatusCodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return kExitServerError;
}

int ReportInputError(const std::string& message) {
  std::cerr << "textclf: " << message << "\n";
  return kExitInputError;
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace textclf::client
