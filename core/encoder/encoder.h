// A BERT encoder with its tokenizer, loaded from (or saved as) a Hugging Face style checkpoint
// folder: config.json, model.safetensors, vocab.txt. libtorch stays behind Impl
// (core/encoder/encoder_impl.h), so this header is safe to include anywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/encoder/bert_config.h"
#include "core/encoder/bert_tokenizer.h"
#include "core/model/model_files.h"

namespace textclf::encoder {

inline constexpr char kConfigFile[] = "config.json";
inline constexpr char kWeightsFile[] = "model.safetensors";
inline constexpr char kVocabFile[] = "vocab.txt";

// The three files of a checkpoint, in memory.
struct CheckpointFiles {
  std::string config_json;
  std::string weights;
  std::string vocab;
};

// Reads <dir>/config.json, model.safetensors and vocab.txt; the message names a missing file.
absl::StatusOr<CheckpointFiles> ReadCheckpointFolder(const std::filesystem::path& dir);
// The same three files from a registry version, under `prefix` ("" or "encoder/").
absl::StatusOr<CheckpointFiles> CheckpointFromModelFiles(const ModelFiles& files, std::string_view prefix);
// Writes the three files into `dir` (created if needed), fsynced.
absl::Status WriteCheckpointFolder(const std::filesystem::path& dir, const CheckpointFiles& files);

class Encoder {
 public:
  struct Impl;

  // `device`: "cpu", "cuda" (the first CUDA device) or "auto" (CUDA when there is one). Weight
  // names may carry the usual prefixes ("bert.", "model.", none) and LayerNorm gamma/beta;
  // missing or unexpected weights are an error naming them.
  static absl::StatusOr<std::unique_ptr<Encoder>> Load(const CheckpointFiles& files, std::string_view device = "cpu");
  // A freshly initialised encoder (and masked-LM head when `with_mlm_head`) for pretraining.
  static absl::StatusOr<std::unique_ptr<Encoder>> CreateRandom(const BertConfig& config, BertTokenizer tokenizer,
                                                               std::string_view device, uint64_t seed,
                                                               bool with_mlm_head);
  ~Encoder();

  // The same weights on another device (serving replicas for GPU instances).
  absl::StatusOr<std::unique_ptr<Encoder>> CopyTo(std::string_view device) const;

  const BertConfig& config() const;
  const BertTokenizer& tokenizer() const;
  int64_t parameter_count() const;  // of the encoder alone
  std::string device_name() const;  // "cpu" or "cuda:0"
  bool on_cuda() const;

  // The checkpoint of the current weights (with the masked-LM head when there is one).
  absl::StatusOr<CheckpointFiles> Save() const;

  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit Encoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "auto" resolves to "cuda" when a CUDA device is usable; an unknown name or "cuda" without a
// device is an error that says what to use.
absl::StatusOr<std::string> ResolveDevice(std::string_view device);

}  // namespace textclf::encoder
