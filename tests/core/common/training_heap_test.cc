#include "core/common/training_heap.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

namespace textclf {
namespace {

constexpr size_t kBlockBytes = size_t{40} << 20;  // above glibc's largest dynamic mmap threshold
constexpr long kBlockPages = static_cast<long>(kBlockBytes / 4096);
constexpr int kRounds = 8;

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Page faults of allocating, touching and freeing one large block kRounds times, in blocks' worth.
double BlocksFaulted() {
  const long before = MinorFaults();
  for (int i = 0; i < kRounds; ++i) {
    auto* block = static_cast<char*>(std::malloc(kBlockBytes));
    if (block == nullptr) return -1;
    std::memset(block, i + 1, kBlockBytes);
    // Keeps the compiler from eliding the allocation with the writes.
    asm volatile("" : : "r"(block) : "memory");
    std::free(block);
  }
  return static_cast<double>(MinorFaults() - before) / kBlockPages;
}

// ASan and UBSan builds replace glibc's malloc with their own allocator, where the thresholds mean nothing.
#if defined(__GLIBC__) && !defined(TEXTCLF_SANITIZED)
TEST(ScopedTrainingHeap, ReusesFreedLargeBlocksInsteadOfMappingFreshPages) {
  // Without the guard every round maps (and faults in) a fresh block.
  EXPECT_GT(BlocksFaulted(), kRounds - 1.5);
  {
    const ScopedTrainingHeap heap;
    // The first round faults the block in; the others reuse it.
    EXPECT_LT(BlocksFaulted(), 1.5);
    {
      const ScopedTrainingHeap nested;  // a second job training at the same time
      EXPECT_LT(BlocksFaulted(), 0.5);
    }
    // The nested guard's end leaves the outer one's heap in place.
    EXPECT_LT(BlocksFaulted(), 0.5);
  }
  // After the last guard, large blocks are mapped again (and the kept memory was returned).
  EXPECT_GT(BlocksFaulted(), kRounds - 1.5);
}
#endif

}  // namespace
}  // namespace textclf
