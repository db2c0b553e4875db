// How many threads libtorch's own kernels (and the BLAS under them) use, for one scope.
//
// Debian's libtorch 1.13 asks cpuinfo for the physical cores and gets 1 on this kind of virtual
// machine, so training ran every GEMM and elementwise kernel on one of two cores. Serving keeps
// one intra-op thread per worker (the worker pool is the parallelism there); a training loop,
// which has the training pool's cores to itself, widens its kernels to them with this guard.
//
// libtorch keeps the count per thread (OpenMP) with a process-wide default for threads that have
// not run a kernel yet; the guard sets both and restores both, so only this scope is widened.
// (Two guards on different threads that end out of order leave the default at the wider count:
// threads that start afterwards then split their kernels across the cores, which costs a little
// throughput and nothing else.)
//
// The cost of widening: OpenMP waits at the end of every kernel for all of its threads, so when
// another process keeps one of the cores busy, the widened loop waits on a preempted thread. With
// a sanitizer build running beside it, pretraining fell to 29 sequences/s on two threads against
// 89 on one (160 on two alone). A server that trains while it serves heavily pays this too.
#pragma once

#include <cstdint>

namespace textclf::torch_support {

// How many threads at::parallel_for spreads `tasks` tasks over when called from core/torch's code.
// at::parallel_for is a header template: it runs in parallel only in code compiled with OpenMP,
// as libtorch is, and without -fopenmp it silently runs everything on the calling thread. Tests
// check through this that core/torch's kernels (dropout, fused attention) are compiled so.
int ParallelForWidth(int64_t tasks);

class ScopedIntraOpThreads {
 public:
  explicit ScopedIntraOpThreads(int threads);
  ~ScopedIntraOpThreads();
  ScopedIntraOpThreads(const ScopedIntraOpThreads&) = delete;
  ScopedIntraOpThreads& operator=(const ScopedIntraOpThreads&) = delete;

 private:
  int previous_;
};

}  // namespace textclf::torch_support
