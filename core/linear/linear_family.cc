#include "core/linear/linear_family.h"

#include <algorithm>

#include "core/linear/linear_model.h"
#include "core/linear/linear_trainer.h"

namespace textclf::linear {
namespace {

double TrainingMemoryBytes(const v1::ModelConfig& config) {
  const int bits = config.linear().hash_bits() > 0 ? config.linear().hash_bits() : 20;
  // Weights, Adagrad's accumulators and the best epoch's copy, per class; the class count is not
  // known here, so this is per class: small next to the texts' features either way.
  return 3.0 * training_memory::kFloat * static_cast<double>(int64_t{1} << std::min(bits, 24));
}

FamilyDescriptor Describe() {
  FamilyDescriptor d;
  d.id = v1::LINEAR;
  d.name = "linear";
  d.config_case = v1::ModelConfig::kLinear;
  // A text costs microseconds: batches only spread the queue's overhead.
  d.serving = {.prefers_gpu = false, .max_batch_size = 256, .max_queue_delay_us = 0};
  d.load = &LinearModel::Load;
  d.train = &Train;
  d.training_memory_bytes = &TrainingMemoryBytes;
  return d;
}

}  // namespace

const FamilyDescriptor* LinearFamily() {
  static const FamilyDescriptor descriptor = Describe();
  return &descriptor;
}

}  // namespace textclf::linear
