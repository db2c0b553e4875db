#include "core/torch/intra_op_threads.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <thread>

namespace textclf::torch_support {
namespace {

TEST(ScopedIntraOpThreads, WidensTheScopeAndRestoresTheCountAfterIt) {
  at::set_num_threads(1);
  {
    const ScopedIntraOpThreads threads(2);
    EXPECT_EQ(at::get_num_threads(), 2);
    {
      const ScopedIntraOpThreads nested(0);  // never below one thread
      EXPECT_EQ(at::get_num_threads(), 1);
    }
    EXPECT_EQ(at::get_num_threads(), 2);
  }
  EXPECT_EQ(at::get_num_threads(), 1);
  // A thread that starts afterwards gets the restored count, not the scope's.
  int seen = 0;
  std::thread([&] { seen = at::get_num_threads(); }).join();
  EXPECT_EQ(seen, 1);
}

TEST(ParallelForWidth, CoreTorchKernelsRunOnEveryIntraOpThread) {
  const ScopedIntraOpThreads threads(2);
  EXPECT_EQ(ParallelForWidth(8), 2);  // 1 when core/torch is compiled without OpenMP
  EXPECT_EQ(ParallelForWidth(1), 1);
  const ScopedIntraOpThreads one(1);
  EXPECT_EQ(ParallelForWidth(8), 1);
}

}  // namespace
}  // namespace textclf::torch_support
