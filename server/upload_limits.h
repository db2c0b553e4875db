// What the server config allows one call's streamed examples (Train, Quantize, Evaluate), as the
// example collector takes it.
#pragma once

#include "core/jobs/example_collector.h"
#include "textclf/v1/server_config.pb.h"

namespace textclf::server {

inline TrainingLimits UploadLimits(const v1::ServerLimits& limits) {
  TrainingLimits out;
  out.max_total_bytes = limits.max_train_bytes();
  out.max_text_bytes = static_cast<size_t>(limits.max_text_bytes());
  return out;
}

}  // namespace textclf::server
