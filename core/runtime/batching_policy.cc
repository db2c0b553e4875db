#include "core/runtime/batching_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace textclf::runtime {
namespace {

void Apply(const v1::BatchingConfig& c, BatchingPolicy* p) {
  if (c.max_batch_size() != 0) p->max_batch_size = c.max_batch_size();
  if (c.max_queue_delay_us() != 0) p->max_queue_delay_us = c.max_queue_delay_us();
  if (c.max_queue_size() != 0) p->max_queue_size = c.max_queue_size();
  if (c.preferred_batch_sizes_size() > 0) {
    p->preferred_batch_sizes.assign(c.preferred_batch_sizes().begin(), c.preferred_batch_sizes().end());
  }
  if (c.default_timeout_ms() != 0) p->default_timeout_ms = c.default_timeout_ms();
  if (c.disabled()) p->enabled = false;
  if (c.bulk_starvation_us() != 0) p->bulk_starvation_us = c.bulk_starvation_us();
}

}  // namespace

absl::StatusOr<BatchingPolicy> ResolveBatchingPolicy(const ServingDefaults& defaults, const v1::BatchingConfig& stored,
                                                     const v1::BatchingConfig& override_config) {
  BatchingPolicy p;
  p.max_batch_size = defaults.max_batch_size;
  p.max_queue_delay_us = defaults.max_queue_delay_us;
  Apply(stored, &p);
  Apply(override_config, &p);
  if (p.max_batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batching.max_batch_size must be positive, got ", p.max_batch_size));
  }
  if (p.max_queue_delay_us < 0) return absl::InvalidArgumentError("batching.max_queue_delay_us must not be negative");
  if (p.max_queue_size < 1) return absl::InvalidArgumentError("batching.max_queue_size must be positive");
  if (p.default_timeout_ms < 0) return absl::InvalidArgumentError("batching.default_timeout_ms must not be negative");
  std::sort(p.preferred_batch_sizes.begin(), p.preferred_batch_sizes.end());
  for (int size : p.preferred_batch_sizes) {
    if (size < 1 || size > p.max_batch_size) {
      return absl::InvalidArgumentError(absl::StrCat("batching.preferred_batch_sizes must be in [1, max_batch_size = ",
                                                     p.max_batch_size, "], got ", size));
    }
  }
  return p;
}

std::vector<Device> ResolveInstances(const ServingDefaults& defaults, const std::vector<v1::InstanceGroup>& stored,
                                     const std::vector<v1::InstanceGroup>& override_groups, ThreadPool* cpu_pool,
                                     int cuda_devices) {
  const std::vector<v1::InstanceGroup>& groups = !override_groups.empty() ? override_groups : stored;
  std::vector<Device> devices;
  auto add_cpu = [&](int count) {
    for (int i = 0; i < std::max(1, count); ++i) devices.push_back(Device{Device::Kind::kCpu, 0, cpu_pool});
  };
  auto add_gpus = [&](const v1::InstanceGroup& g) {
    std::vector<int> ids(g.devices().begin(), g.devices().end());
    if (ids.empty()) {
      for (int d = 0; d < cuda_devices; ++d) ids.push_back(d);
    }
    for (int id : ids) {
      // A GPU asked for but absent runs on the CPU, so the same configuration works everywhere.
      for (int i = 0; i < std::max(1, g.count()); ++i) {
        devices.push_back(id < cuda_devices ? Device{Device::Kind::kCuda, id, cpu_pool}
                                            : Device{Device::Kind::kCpu, 0, cpu_pool});
      }
    }
  };
  for (const v1::InstanceGroup& g : groups) {
    const bool gpu = g.kind() == v1::InstanceGroup::GPU ||
                     (g.kind() == v1::InstanceGroup::KIND_AUTO && defaults.prefers_gpu && cuda_devices > 0);
    if (gpu && cuda_devices > 0) {
      add_gpus(g);
    } else {
      add_cpu(g.count());
    }
  }
  if (devices.empty()) {
    if (defaults.prefers_gpu && cuda_devices > 0) {
      add_gpus(v1::InstanceGroup());
    } else {
      add_cpu(defaults.cpu_instances);
    }
  }
  return devices;
}

}  // namespace textclf::runtime
