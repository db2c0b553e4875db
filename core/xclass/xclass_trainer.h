// Trains an X-Class model: loads the encoder (a registry version or a checkpoint folder),
// runs steps 1-5 (core/xclass/xclass_pipeline.h), trains the final classifier on the selected
// documents and writes encoder/, head.safetensors and the manifest's X-Class state, which
// records the keywords and pseudo-label statistics. Reports progress per stage and stops when
// cancelled.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "core/model/training.h"
#include "core/xclass/xclass_pipeline.h"
#include "textclf/v1/model.pb.h"

namespace textclf::xclass {

// What happened on the way, for benchmarks and tests (labels sent with the documents are never
// used for training; these let a caller score each stage).
struct XClassReport {
  Alignment alignment;
  double final_train_loss = 0;
  std::map<std::string, double> seconds;  // encode, classes, documents, align, select, final
};

// `reuse`, when given, is the corpus already encoded with this encoder at the resolved layer
// (a benchmark comparing options encodes once).
absl::StatusOr<v1::Manifest> TrainXClass(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx,
                                         XClassReport* report = nullptr, const EncodedCorpus* reuse = nullptr);

// Loads the encoder that `config` names: encoder_path, or encoder_model through
// ctx.read_model_files (an ENCODER_MLM version, or an XCLASS version's encoder/).
absl::StatusOr<encoder::CheckpointFiles> ReadEncoderCheckpoint(const v1::XClassConfig& config, TrainContext& ctx,
                                                              std::string* source);

}  // namespace textclf::xclass
