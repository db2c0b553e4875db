// The mini-batch training loop both CNN families share: SGD or Adam with a cosine learning-rate
// decay, a progress message per epoch, and early stopping on the validation split keeping the
// best epoch. Includes libtorch: include it only from core/cnn .cc files.
#pragma once

#include <torch/types.h>

#include <random>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cnn/cnn_network.h"
#include "core/model/training.h"
#include "textclf/v1/cnn.pb.h"

namespace textclf::cnn {

// A labelled set the training loop draws batches from: ids or images, encoded once.
class Examples {
 public:
  virtual ~Examples() = default;
  virtual size_t size() const = 0;
  virtual int label(size_t i) const = 0;
  // The network input for examples `rows`, on the CPU; `augment` for training batches.
  virtual torch::Tensor Batch(std::span<const size_t> rows, bool augment, std::mt19937_64& rng) const = 0;
};

struct LoopResult {
  TensorMap best;  // on the CPU
  std::vector<v1::EpochRecord> epochs;
  int best_epoch = 0;
};

// Trains `params` (on the CPU) on `train` as `t` says, reporting progress as stages "train" and
// "epoch". Without epochs, returns `params` as they are.
absl::StatusOr<LoopResult> RunTraining(const Architecture& arch, TensorMap params, const Examples& train,
                                       const Examples& validation, const v1::CnnTraining& t,
                                       const torch::Device& device, TrainContext& ctx);

}  // namespace textclf::cnn
