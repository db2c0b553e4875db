// What every textclf sub-command shares: the connection flags, connecting to the server, turning
// gRPC errors into a message, a hint and an exit code, and printing protobuf messages as JSON.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "client/channel_security.h"
#include "google/protobuf/message.h"
#include "textclf/v1/service.grpc.pb.h"

namespace CLI {
class App;
}

namespace textclf::client {

// Exit codes: 0 success, 1 the server refused or failed, 2 bad local input or usage.
inline constexpr int kExitServerError = 1;
inline constexpr int kExitInputError = 2;

// The address used when neither --server nor $TEXTCLF_SERVER gives one.
inline constexpr char kDefaultServer[] = "localhost:50051";
inline constexpr char kServerEnvironmentVariable[] = "TEXTCLF_SERVER";

// Where and how a command reaches the server. A command sets its own default timeout before
// registering the flags: unary calls get one, calls that follow a job need none.
struct ConnectionOptions {
  explicit ConnectionOptions(double default_timeout_s = 30) : timeout_s(default_timeout_s) {}
  std::string server = kDefaultServer;
  double timeout_s;  // 0: no deadline
  SecurityFlags security;
};

// Registers --server (default $TEXTCLF_SERVER, else localhost:50051), --timeout (its default is
// o->timeout_s; `timeout_help` says what it bounds and what 0 means) and the TLS and token flags
// on `cmd`.
void AddConnectionFlags(CLI::App* cmd, ConnectionOptions* o, const std::string& timeout_help);

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Classifier::Stub> stub;
  ChannelSecurity security;
  double timeout_s = 0;

  // Gives the call the deadline --timeout asks for (none for 0), counted from now.
  void SetDeadline(grpc::ClientContext* context) const;
  // Prints "textclf: CODE: message" to stderr and, when the code says what to do next (send a
  // token, trust the right CA, wait longer), a hint; returns kExitServerError.
  int ReportError(const grpc::Status& status) const;
};

// Loads the credentials and opens a channel; on a bad flag or file prints the usage error and
// returns nullopt (exit with kExitInputError).
std::optional<Connection> Connect(const ConnectionOptions& options);

// Prints "textclf: CODE: message" to stderr and returns kExitServerError.
int ReportRpcError(const grpc::Status& status);
// Prints "textclf: message" to stderr and returns kExitInputError.
int ReportInputError(const std::string& message);

// Compact-or-pretty JSON with proto field names and zero values included.
std::string ToJsonLine(const google::protobuf::Message& message);

std::string StatusCodeName(grpc::StatusCode code);

}  // namespace textclf::client
