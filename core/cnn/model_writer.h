// Writes a CNN model version's files (the weights archive, and the vocabulary of TEXT_CNN models)
// into a staging folder and returns the manifest's family part, for the trainer, the checkpoint
// importer and quantization alike.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cnn/tensor_archive.h"
#include "core/cnn/vocabulary.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

inline constexpr char kWeightsFile[] = "weights.tcw";
inline constexpr char kVocabularyFile[] = "vocabulary.txt";

struct CnnModelParts {
  v1::Family family = v1::FAMILY_UNSPECIFIED;
  std::vector<std::string> classes;
  v1::ModelConfig config;  // with the resolved family configuration
  v1::CnnState state;      // file names, sizes and the tensor list are filled in here
  std::vector<ArchiveTensor> tensors;
  const Vocabulary* vocabulary = nullptr;  // TEXT_CNN
};

absl::StatusOr<v1::Manifest> WriteCnnModel(const CnnModelParts& parts, const std::filesystem::path& output_dir);

}  // namespace textclf::cnn
