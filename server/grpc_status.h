// The one place where core's absl::Status becomes a gRPC status.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace textclf::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace textclf::server
