#include "core/xclass/xclass_family.h"

#include "core/encoder/encoder_family.h"
#include "core/xclass/xclass_model.h"
#include "core/xclass/xclass_trainer.h"

namespace textclf::xclass {
namespace {

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  return TrainXClass(start, data, ctx);
}

double TrainingBytes(const v1::ModelConfig& config) {
  // Without a named encoder, X-Class pretrains one first; otherwise its Eigen steps hold a few
  // matrices of the documents' size.
  if (config.xclass().encoder_path().empty() && config.xclass().encoder_model().empty()) {
    return encoder::EncoderTrainingBytes(config.xclass().pretrain_encoder());
  }
  return 0;
}

FamilyDescriptor Describe() {
  FamilyDescriptor d;
  d.id = v1::XCLASS;
  d.name = "xclass";
  d.config_case = v1::ModelConfig::kXclass;
  // Class names, no labels: that is the point of extremely weak supervision.
  d.examples = {.tensors = false, .labels_required = false, .classes_required = true};
  d.serving = {.prefers_gpu = true, .max_batch_size = 64, .max_queue_delay_us = 2000};
  d.load = &XClassModel::Load;
  d.train = &Train;
  d.training_memory_bytes = &TrainingBytes;
  return d;
}

}  // namespace

const FamilyDescriptor* XClassFamily() {
  static const FamilyDescriptor descriptor = Describe();
  return &descriptor;
}

}  // namespace textclf::xclass
