#include "core/runtime/batching_policy.h"

#include <gtest/gtest.h>

namespace textclf::runtime {
namespace {

// Serving defaults as a CPU family (Zest) and a tensor family (the CNNs) declare them.
constexpr ServingDefaults kZestLike = {.prefers_gpu = false, .max_batch_size = 256, .max_queue_delay_us = 0};
constexpr ServingDefaults kCnnLike = {.prefers_gpu = true, .max_batch_size = 64, .max_queue_delay_us = 2000};

TEST(BatchingPolicy, FamiliesHaveTheirOwnDefaults) {
  auto zest = ResolveBatchingPolicy(kZestLike, {}, {});
  ASSERT_TRUE(zest.ok());
  EXPECT_TRUE(zest->enabled);
  EXPECT_EQ(zest->max_batch_size, 256);
  auto cnn = ResolveBatchingPolicy(kCnnLike, {}, {});
  ASSERT_TRUE(cnn.ok());
  EXPECT_EQ(cnn->max_batch_size, 64);
}

TEST(BatchingPolicy, TheServerOverrideWinsOverTheStoredConfig) {
  v1::BatchingConfig stored, override_config;
  stored.set_max_batch_size(32);
  stored.set_max_queue_delay_us(500);
  override_config.set_max_batch_size(8);
  override_config.set_disabled(true);
  auto p = ResolveBatchingPolicy(kZestLike, stored, override_config);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->max_batch_size, 8);
  EXPECT_EQ(p->max_queue_delay_us, 500);
  EXPECT_FALSE(p->enabled);
}

TEST(BatchingPolicy, RejectsPreferredSizesAboveTheMaximum) {
  v1::BatchingConfig c;
  c.set_max_batch_size(16);
  c.add_preferred_batch_sizes(32);
  auto p = ResolveBatchingPolicy(kZestLike, c, {});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("preferred_batch_sizes"), std::string_view::npos);
}

TEST(BatchingPolicy, SortsPreferredSizes) {
  v1::BatchingConfig c;
  c.add_preferred_batch_sizes(64);
  c.add_preferred_batch_sizes(16);
  EXPECT_EQ(ResolveBatchingPolicy(kZestLike, c, {})->preferred_batch_sizes, (std::vector<int>{16, 64}));
}

TEST(Instances, CpuModelsGetOneInstanceOnThePool) {
  auto devices = ResolveInstances(kZestLike, {}, {}, nullptr, 2);
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].kind, Device::Kind::kCpu);
}

TEST(Instances, TensorModelsGetOneInstancePerGpuOrOneCpuInstance) {
  auto gpus = ResolveInstances(kCnnLike, {}, {}, nullptr, 2);
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[1].kind, Device::Kind::kCuda);
  EXPECT_EQ(gpus[1].index, 1);
  auto cpu = ResolveInstances(kCnnLike, {}, {}, nullptr, 0);
  ASSERT_EQ(cpu.size(), 1u);
  EXPECT_EQ(cpu[0].kind, Device::Kind::kCpu);
}

TEST(Instances, GroupsSetCountKindAndDevicesAndFallBackToCpu) {
  v1::InstanceGroup group;
  group.set_count(2);
  group.set_kind(v1::InstanceGroup::GPU);
  group.add_devices(0);
  auto devices = ResolveInstances(kCnnLike, {group}, {}, nullptr, 1);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].kind, Device::Kind::kCuda);
  // The same configuration on a machine without GPUs runs on the CPU.
  auto fallback = ResolveInstances(kCnnLike, {group}, {}, nullptr, 0);
  ASSERT_EQ(fallback.size(), 2u);
  EXPECT_EQ(fallback[0].kind, Device::Kind::kCpu);
  v1::InstanceGroup three_cpus;
  three_cpus.set_count(3);
  three_cpus.set_kind(v1::InstanceGroup::CPU);
  EXPECT_EQ(ResolveInstances(kZestLike, {group}, {three_cpus}, nullptr, 1).size(), 3u);
}

}  // namespace
}  // namespace textclf::runtime
