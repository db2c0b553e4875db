// The batching and instance settings of one model version, resolved from the family's
// defaults, the model's stored configuration and the server's per-model overrides.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/family.h"
#include "core/model/model.h"
#include "textclf/v1/model.pb.h"

namespace textclf::runtime {

struct BatchingPolicy {
  bool enabled = true;
  int max_batch_size = 256;
  int64_t max_queue_delay_us = 0;
  int max_queue_size = 8192;
  std::vector<int> preferred_batch_sizes;  // ascending, each <= max_batch_size
  int64_t default_timeout_ms = 30000;
  int64_t bulk_starvation_us = 100000;
};

// Fields set in `override_config` win over `stored`; unset ones take the family's defaults.
absl::StatusOr<BatchingPolicy> ResolveBatchingPolicy(const ServingDefaults& defaults, const v1::BatchingConfig& stored,
                                                     const v1::BatchingConfig& override_config);

// Where the instances of a model run: count x kind x devices, as Triton's instance_group.
// Defaults: one instance on the CPU pool; for families that prefer a GPU, one instance per
// visible CUDA device, or one CPU instance without CUDA.
std::vector<Device> ResolveInstances(const ServingDefaults& defaults, const std::vector<v1::InstanceGroup>& stored,
                                     const std::vector<v1::InstanceGroup>& override_groups, ThreadPool* cpu_pool,
                                     int cuda_devices);

}  // namespace textclf::runtime
