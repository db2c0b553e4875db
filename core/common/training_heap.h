// Keeps a training loop's large tensors in the heap instead of fresh mmap'd pages, for one scope.
//
// glibc serves every allocation above its mmap threshold (which grows by itself to at most 32 MiB)
// with fresh pages, and gives free memory at the top of the heap back to the kernel above its trim
// threshold. A training step allocates and frees the same large buffers every step (the MLM
// logits, their log-softmax and gradient: 268 x 8,000 floats each, 8.6 MB, with the learned
// vocabulary; 33 MB with bert-base's 30,522 words, always above the threshold), so every step
// paid the kernel for thousands of zeroed 4 KiB pages: 60 steps of the 4-layer encoder took 339 k
// minor faults and 1.6-1.9 s of system time, against 73 k (mostly start-up) and 0.7-0.9 s with
// the heap kept (/usr/bin/time on one step loop, 2 threads).
//
// The first guard raises both thresholds so that freed blocks are reused; when the last guard of
// the process ends, the thresholds go back to what glibc's dynamic threshold grows to on its own
// (32 MiB, trim at twice that) and malloc_trim hands the memory kept to the kernel, so a server
// that trained once does not hold a training step's working set afterwards. Without glibc the
// guard does nothing.
#pragma once

namespace textclf {

class ScopedTrainingHeap {
 public:
  ScopedTrainingHeap();
  ~ScopedTrainingHeap();
  ScopedTrainingHeap(const ScopedTrainingHeap&) = delete;
  ScopedTrainingHeap& operator=(const ScopedTrainingHeap&) = delete;
};

}  // namespace textclf
