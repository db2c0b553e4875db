#include "core/zest/zest_family.h"

#include "core/zest/zest_model.h"
#include "core/zest/zest_trainer.h"

namespace textclf::zest {
namespace {

FamilyDescriptor Describe() {
  FamilyDescriptor d;
  d.id = v1::ZEST;
  d.name = "zest";
  d.config_case = v1::ModelConfig::kZest;
  // Zest has no fixed cost per batch to spread, so nothing is gained by holding a lone request
  // back: batches form from what queued while the instance was busy. 256 texts keep every
  // core's dictionary-major chunk long. (batching_bench: a 1 ms delay cost 3x the throughput at
  // concurrency 1 and gained ~10% at 32 and 128.)
  d.serving = {.prefers_gpu = false, .max_batch_size = 256, .max_queue_delay_us = 0};
  d.load = &ZestModel::Load;
  d.train = &Train;
  // Dictionaries are built from the texts already held: no memory of its own to speak of.
  return d;
}

}  // namespace

const FamilyDescriptor* ZestFamily() {
  static const FamilyDescriptor descriptor = Describe();
  return &descriptor;
}

}  // namespace textclf::zest
