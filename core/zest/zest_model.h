// A loaded Zest model: its preprocessor and digested dictionaries, classifying batches across
// the CPU pool.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/zest/compressor_bank.h"
#include "core/zest/preprocessor.h"

namespace textclf::zest {

class ZestModel final : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest,
                                                     const ModelFiles& files);

  absl::Status ValidateInput(const ModelInput& input) const override;
  int positive_class() const override { return binary_ ? state_.positive_class_index() : -1; }
  absl::Status Run(std::span<const ModelInput> batch, const Device& device,
                   ScoreMatrix* out) const override;

  // The logits probabilities come from, before the temperature: rows x classes into `logits`.
  // Calibration fits the temperature on these.
  absl::Status ComputeLogits(std::span<const ModelInput> batch, const Device& device,
                             std::vector<float>* logits) const;

  // Texts per parallel chunk of a batch.
  static size_t ChunkSize(size_t batch_size, size_t threads);

  const CompressorBank& bank() const { return *bank_; }
  const Preprocessor& preprocessor() const { return preprocessor_; }

 private:
  ZestModel(v1::Manifest manifest, Preprocessor preprocessor,
            std::unique_ptr<CompressorBank> bank);

  // Scores inputs [begin, end) on the calling thread: family scores, and logits into the
  // probability rows (turned into probabilities by Run).
  void RunChunk(std::span<const ModelInput> batch, size_t begin, size_t end, ScoreMatrix* out) const;
  void ForEachChunk(std::span<const ModelInput> batch, const Device& device,
                    const std::function<void(size_t, size_t)>& fn) const;

  const v1::ZestState& state_;
  bool binary_;
  Preprocessor preprocessor_;
  std::unique_ptr<CompressorBank> bank_;
};

}  // namespace textclf::zest
