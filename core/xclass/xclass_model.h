// A trained X-Class model as served: the (fine-tuned or original) encoder, mean pooling and a
// linear head. Batches run on the CPU or on a CUDA instance's device, with one encoder replica
// per device.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "core/encoder/encoder.h"
#include "core/encoder/word_encoding.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/xclass/final_classifier.h"

namespace textclf::xclass {

class XClassModel final : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest, const ModelFiles& files);

  absl::Status ValidateInput(const ModelInput& input) const override;
  absl::Status Run(std::span<const ModelInput> batch, const Device& device, ScoreMatrix* out) const override;

 private:
  XClassModel(v1::Manifest manifest, std::unique_ptr<encoder::Encoder> encoder, LinearHead head);
  absl::StatusOr<const encoder::Encoder*> EncoderFor(const Device& device) const;

  std::unique_ptr<encoder::Encoder> encoder_;  // on the CPU
  LinearHead head_;
  encoder::EncodingOptions features_;
  mutable std::mutex replicas_mu_;
  mutable std::map<int, std::unique_ptr<encoder::Encoder>> cuda_replicas_;
};

}  // namespace textclf::xclass
