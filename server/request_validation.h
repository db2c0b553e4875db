// The checks a Classify request passes before any model sees it: a model named, inputs present
// and within the server's limits, every text non-empty, short enough and valid UTF-8. Apart from
// the service (no gRPC, no models), so that it is tested and fuzzed on its own.
#pragma once

#include "absl/status/status.h"
#include "textclf/v1/server_config.pb.h"
#include "textclf/v1/service.pb.h"

namespace textclf::server {

// INVALID_ARGUMENT saying what to change. Tensors are checked later by the model they are for.
absl::Status ValidateRequest(const v1::ClassifyRequest& request, const v1::ServerLimits& limits);

}  // namespace textclf::server
