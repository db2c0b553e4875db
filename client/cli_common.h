// What every textclf sub-command shares: connecting to the server, turning gRPC errors into a
// message and an exit code, and printing protobuf messages as JSON.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::client {

// Exit codes: 0 success, 1 the server refused or failed, 2 bad local input or usage.
inline constexpr int kExitServerError = 1;
inline constexpr int kExitInputError = 2;

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Classifier::Stub> stub;
};

Connection Connect(const std::string& address);

// Prints "textclf: CODE: message" to stderr and returns kExitServerError.
int ReportRpcError(const grpc::Status& status);
// Prints "textclf: message" to stderr and returns kExitInputError.
int ReportInputError(const std::string& message);

// Compact-or-pretty JSON with proto field names and zero values included.
std::string ToJsonLine(const google::protobuf::Message& message);

std::string StatusCodeName(grpc::StatusCode code);

}  // namespace textclf::client
