#include "core/encoder/encoder_family.h"

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/encoder/encoder.h"
#include "core/encoder/encoder_config.h"
#include "core/encoder/mlm_pretrainer.h"
#include "core/encoder/safetensors.h"

namespace textclf::encoder {
namespace {

// A published encoder. It has no classes to classify into: it is loaded to check that its
// files form a valid checkpoint, and refuses Classify with a message saying how to use it.
class EncoderModel final : public Model {
 public:
  explicit EncoderModel(v1::Manifest manifest) : Model(std::move(manifest)) {}

  // Inputs are fine; running is refused (the server reports validation failures as bad input,
  // while this is a model that cannot classify at all).
  absl::Status ValidateInput(const ModelInput&) const override { return absl::OkStatus(); }
  absl::Status Run(std::span<const ModelInput>, const Device&, ScoreMatrix*) const override { return Refusal(); }

 private:
  absl::Status Refusal() const {
    return absl::FailedPreconditionError(absl::StrCat(
        "model ", name(), " is an ENCODER_MLM encoder, not a classifier: train an XCLASS model with "
        "{\"xclass\": {\"encoder_model\": \"", name(), "\", \"encoder_version\": ", version(), "}} to classify"));
  }
};

absl::StatusOr<std::unique_ptr<Model>> LoadEncoder(v1::Manifest manifest, const ModelFiles& files) {
  if (!manifest.has_encoder()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest of ", manifest.name(), " has no encoder state"));
  }
  // The checkpoint must parse; its weights are read only by the models that use it.
  ASSIGN_OR_RETURN(CheckpointFiles checkpoint, CheckpointFromModelFiles(files, ""));
  ASSIGN_OR_RETURN(BertConfig config, ParseBertConfig(checkpoint.config_json));
  ASSIGN_OR_RETURN(BertTokenizer tokenizer, BertTokenizer::Create(checkpoint.vocab));
  ASSIGN_OR_RETURN(SafetensorsReader reader, SafetensorsReader::Parse(checkpoint.weights));
  if (tokenizer.vocab_size() != config.vocab_size) {
    return absl::DataLossError(absl::StrCat("encoder ", manifest.name(), ": vocab.txt and config.json disagree"));
  }
  return std::unique_ptr<Model>(new EncoderModel(std::move(manifest)));
}

absl::StatusOr<v1::Manifest> TrainEncoder(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  ASSIGN_OR_RETURN(v1::EncoderConfig config, ResolveEncoderConfig(start.config().encoder()));
  if (!data.eval_texts.empty()) {
    return absl::InvalidArgumentError(
        "ENCODER_MLM takes no EVAL examples: an encoder has no classes to evaluate; send TRAIN texts only");
  }
  ASSIGN_OR_RETURN(PretrainedEncoder pretrained, PretrainFromScratch(data.texts, config, ctx));
  ctx.progress("write", 0.95, "writing the checkpoint");
  RETURN_IF_ERROR(WriteCheckpointFolder(ctx.output_dir, pretrained.checkpoint));

  v1::Manifest manifest;
  manifest.set_family(v1::ENCODER_MLM);
  for (const auto& name : data.classes) manifest.add_classes(name);
  *manifest.mutable_config() = start.config();
  *manifest.mutable_config()->mutable_encoder() = config;
  *manifest.mutable_encoder() = DescribePretrained(config, pretrained);
  return manifest;
}

// BERT's WordPiece vocabulary, the size of the default encoder's embedding table.
constexpr double kBertVocabulary = 30522;

FamilyDescriptor Describe() {
  FamilyDescriptor d;
  d.id = v1::ENCODER_MLM;
  d.name = "encoder_mlm";
  d.config_case = v1::ModelConfig::kEncoder;
  d.examples = {.tensors = false, .labels_required = false, .classes_required = false};
  d.serving = {.prefers_gpu = true, .max_batch_size = 64, .max_queue_delay_us = 2000};
  d.load = &LoadEncoder;
  d.train = &TrainEncoder;
  d.training_memory_bytes = [](const v1::ModelConfig& config) { return EncoderTrainingBytes(config.encoder()); };
  return d;
}

}  // namespace

double EncoderTrainingBytes(const v1::EncoderConfig& config) {
  auto resolved = ResolveEncoderConfig(config);
  if (!resolved.ok()) return 0;
  const double hidden = resolved->hidden_size();
  const double layers = resolved->layers();
  const double length = resolved->max_length();
  const double batch = resolved->batch_size();
  const double intermediate = resolved->intermediate_size();
  const double parameters = kBertVocabulary * hidden + layers * (4 * hidden * hidden + 2 * hidden * intermediate);
  // Per layer: the hidden states and projections, the feed-forward's inner states and the
  // attention matrices of every head.
  const double activations =
      batch * layers * length * (8 * hidden + 2 * intermediate + 2 * resolved->heads() * length);
  return parameters * training_memory::kBytesPerParameter + activations * training_memory::kBytesPerActivation;
}

const FamilyDescriptor* EncoderMlmFamily() {
  static const FamilyDescriptor descriptor = Describe();
  return &descriptor;
}

}  // namespace textclf::encoder
