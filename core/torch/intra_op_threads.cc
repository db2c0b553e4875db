#include "core/torch/intra_op_threads.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace textclf::torch_support {

ScopedIntraOpThreads::ScopedIntraOpThreads(int threads) : previous_(at::get_num_threads()) {
  at::set_num_threads(std::max(1, threads));
}

ScopedIntraOpThreads::~ScopedIntraOpThreads() { at::set_num_threads(previous_); }

}  // namespace textclf::torch_support
