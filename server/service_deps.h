// What the gRPC service needs from the rest of the server: models, CPU threads, the training
// job pool and the limits from the server configuration.
#pragma once

#include "core/common/thread_pool.h"
#include "core/jobs/job_pool.h"
#include "core/registry/model_manager.h"
#include "textclf/v1/server_config.pb.h"

namespace textclf::server {

struct ServiceDeps {
  registry::ModelManager* models = nullptr;
  ThreadPool* cpu_pool = nullptr;
  JobPool* jobs = nullptr;
  v1::ServerLimits limits;  // resolved: every field set
};

}  // namespace textclf::server
