#include "core/cnn/model_writer.h"

#include "core/common/files.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {

absl::StatusOr<v1::Manifest> WriteCnnModel(const CnnModelParts& parts, const std::filesystem::path& output_dir) {
  v1::Manifest manifest;
  manifest.set_family(parts.family);
  for (const std::string& c : parts.classes) manifest.add_classes(c);
  *manifest.mutable_config() = parts.config;
  v1::CnnState* state = manifest.mutable_cnn();
  *state = parts.state;
  state->clear_tensors();
  for (const ArchiveTensor& t : parts.tensors) {
    v1::CnnTensorInfo* info = state->add_tensors();
    info->set_name(t.name);
    for (int64_t d : t.shape) info->add_shape(d);
    info->set_bits(t.bits);
    info->set_per_channel(t.bits < 32 && t.scales.size() > 1);
  }
  state->set_weights_file(kWeightsFile);
  RETURN_IF_ERROR(WriteFileDurably(output_dir / kWeightsFile, SerializeArchive(parts.tensors)));
  if (parts.vocabulary != nullptr) {
    state->set_vocabulary_file(kVocabularyFile);
    state->set_vocabulary_size(static_cast<int32_t>(parts.vocabulary->size()));
    RETURN_IF_ERROR(WriteFileDurably(output_dir / kVocabularyFile, parts.vocabulary->Serialize()));
  }
  if (state->temperature() <= 0) state->set_temperature(1.0);
  return manifest;
}

}  // namespace textclf::cnn
