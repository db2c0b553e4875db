// What the gRPC service needs from the rest of the server: models, the serving runtime, the
// training job pool, the observers and the limits from the server configuration.
#pragma once

#include "core/common/thread_pool.h"
#include "core/jobs/job_pool.h"
#include "core/jobs/upload_budget.h"
#include "core/registry/model_manager.h"
#include "core/runtime/inference_runtime.h"
#include "core/runtime/prediction_log.h"
#include "core/runtime/runtime_observer.h"
#include "core/runtime/statistics_collector.h"
#include "server/stream_watchdog.h"
#include "textclf/v1/server_config.pb.h"

namespace textclf::server {

struct ServiceDeps {
  registry::ModelManager* models = nullptr;
  runtime::InferenceRuntime* runtime = nullptr;
  ThreadPool* cpu_pool = nullptr;
  JobPool* jobs = nullptr;
  runtime::PredictionLog* predictions = nullptr;
  runtime::StatisticsCollector* statistics = nullptr;
  runtime::RuntimeObserver* observer = nullptr;  // every observer, for evaluations and feedback
  UploadBudget* uploads = nullptr;               // memory of examples buffered by all uploads
  StreamWatchdog* watchdog = nullptr;            // cancels streams that stop sending
  v1::ServerLimits limits;                       // resolved: every field set
  std::string import_dir;                        // where training configs may name files; empty: nowhere
  bool read_only = false;                        // Evaluate records nothing
};

}  // namespace textclf::server
