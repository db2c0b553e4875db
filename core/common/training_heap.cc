#include "core/common/training_heap.h"

#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace textclf {
namespace {

#if defined(__GLIBC__)
// Blocks up to this size come from the heap while training (the largest buffer of a step of the
// default encoders is tens of MB; what is larger is rare enough to map).
constexpr int kTrainingMmapThreshold = 256 << 20;
constexpr int kTrainingTrimThreshold = 1 << 30;
// glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: where its dynamic threshold stops growing.
constexpr int kServingMmapThreshold = 32 << 20;
#endif

std::mutex mutex;
int guards = 0;  // guarded by mutex

}  // namespace

ScopedTrainingHeap::ScopedTrainingHeap() {
  std::lock_guard<std::mutex> lock(mutex);
  if (guards++ > 0) return;
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, kTrainingMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrainingTrimThreshold);
#endif
}

ScopedTrainingHeap::~ScopedTrainingHeap() {
  std::lock_guard<std::mutex> lock(mutex);
  if (--guards > 0) return;
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, kServingMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, 2 * kServingMmapThreshold);
  malloc_trim(0);
#endif
}

}  // namespace textclf
