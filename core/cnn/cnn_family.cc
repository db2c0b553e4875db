#include "core/cnn/cnn_family.h"

#include "core/cnn/cnn_config.h"
#include "core/cnn/cnn_model.h"
#include "core/cnn/cnn_trainer.h"
#include "core/cnn/post_training_quantizer.h"

namespace textclf::cnn {
namespace {

double TextCnnTrainingBytes(const v1::ModelConfig& config) {
  auto resolved = ResolveTextCnnConfig(config.text_cnn());
  if (!resolved.ok()) return 0;
  const double batch = resolved->training().batch_size();
  const double tokens = resolved->max_tokens();
  const double embedding = resolved->embedding_dim();
  const double maps = resolved->feature_maps();
  double parameters = resolved->max_vocabulary() * embedding;
  double activations = batch * tokens * embedding;
  for (int width : resolved->filter_widths()) {
    parameters += width * embedding * maps;
    activations += batch * tokens * maps;
  }
  return parameters * training_memory::kBytesPerParameter + activations * training_memory::kBytesPerActivation;
}

double ImageCnnTrainingBytes(const v1::ModelConfig& config) {
  auto resolved = ResolveImageCnnConfig(config.image_cnn());
  if (!resolved.ok()) return 0;
  // Height and width may come from the training tensors (bounded by the message size); only a
  // config that names them can be judged here.
  const double pixels = static_cast<double>(resolved->height()) * resolved->width();
  if (pixels <= 0) return 0;
  const double batch = resolved->training().batch_size();
  // Each of the 6n + 2 layers keeps about 16 channels at full resolution (later stages have
  // more channels on fewer pixels), with batch norm and ReLU outputs beside the convolution's.
  const double layers = resolved->depth();
  return batch * pixels * (resolved->channels() + 3.0 * 16 * layers) * training_memory::kBytesPerActivation;
}

// A forward pass costs about the same for 1 and 64 rows: batch eagerly, on a GPU when there is one.
constexpr ServingDefaults kTensorServing = {.prefers_gpu = true, .max_batch_size = 64, .max_queue_delay_us = 2000};

FamilyDescriptor DescribeTextCnn() {
  FamilyDescriptor d;
  d.id = v1::TEXT_CNN;
  d.name = "text_cnn";
  d.config_case = v1::ModelConfig::kTextCnn;
  d.serving = kTensorServing;
  d.load = &CnnModel::Load;
  d.train = &TrainTextCnn;
  d.quantize = &QuantizeCnn;
  d.training_memory_bytes = &TextCnnTrainingBytes;
  return d;
}

FamilyDescriptor DescribeImageCnn() {
  FamilyDescriptor d;
  d.id = v1::IMAGE_CNN;
  d.name = "image_cnn";
  d.config_case = v1::ModelConfig::kImageCnn;
  d.examples.tensors = true;
  d.serving = kTensorServing;
  d.load = &CnnModel::Load;
  d.train = &TrainImageCnn;
  d.quantize = &QuantizeCnn;
  d.training_memory_bytes = &ImageCnnTrainingBytes;
  return d;
}

}  // namespace

const FamilyDescriptor* TextCnnFamily() {
  static const FamilyDescriptor descriptor = DescribeTextCnn();
  return &descriptor;
}

const FamilyDescriptor* ImageCnnFamily() {
  static const FamilyDescriptor descriptor = DescribeImageCnn();
  return &descriptor;
}

}  // namespace textclf::cnn
