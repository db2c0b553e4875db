#include "core/xclass/xclass_trainer.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/encoder/mlm_pretrainer.h"
#include "core/xclass/final_classifier.h"
#include "core/xclass/xclass_config.h"

namespace textclf::xclass {
namespace {

constexpr char kEncoderDir[] = "encoder/";
constexpr char kHeadFile[] = "head.safetensors";

// Share of the job's progress each stage takes: [begin, end).
struct Span {
  double begin;
  double end;
  double at(double fraction) const { return begin + (end - begin) * std::clamp(fraction, 0.0, 1.0); }
};
constexpr Span kEncodeSpan{0.02, 0.40};
constexpr Span kAlignSpan{0.40, 0.50};
constexpr Span kFinalSpan{0.50, 0.92};

std::string AlignStage(double fraction) {
  if (fraction < 0.1) return "classes";
  if (fraction < 0.6) return "documents";
  if (fraction < 1.0) return "align";
  return "select";
}

}  // namespace

absl::StatusOr<encoder::CheckpointFiles> ReadEncoderCheckpoint(const v1::XClassConfig& config, TrainContext& ctx,
                                                              std::string* source) {
  if (!config.encoder_path().empty()) {
    *source = config.encoder_path();
    return encoder::ReadCheckpointFolder(config.encoder_path());
  }
  if (!ctx.read_model_files) {
    return absl::FailedPreconditionError("xclass.encoder_model: registry models cannot be read here; use encoder_path");
  }
  auto files = ctx.read_model_files(config.encoder_model(), config.encoder_version());
  if (!files.ok()) {
    return absl::Status(files.status().code(),
                        absl::StrCat("xclass.encoder_model \"", config.encoder_model(), "\" version ",
                                     config.encoder_version(), ": ", files.status().message()));
  }
  *source = absl::StrCat("model ", config.encoder_model(), " version ",
                         config.encoder_version() == 0 ? std::string("latest") : absl::StrCat(config.encoder_version()));
  for (const char* prefix : {"", kEncoderDir}) {
    if (files->contents.contains(std::string(prefix) + encoder::kConfigFile)) {
      return encoder::CheckpointFromModelFiles(*files, prefix);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("xclass.encoder_model \"", config.encoder_model(),
                                                 "\" is not an encoder: train one with --family encoder_mlm"));
}

namespace {

// A uniform sample of max_documents indices, in corpus order.
std::vector<size_t> SampleDocuments(size_t count, int max_documents, uint64_t seed) {
  std::vector<size_t> kept(count);
  std::iota(kept.begin(), kept.end(), 0);
  if (max_documents <= 0 || count <= static_cast<size_t>(max_documents)) return kept;
  std::mt19937_64 rng(seed);
  std::shuffle(kept.begin(), kept.end(), rng);
  kept.resize(static_cast<size_t>(max_documents));
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace

absl::StatusOr<v1::Manifest> TrainXClass(const v1::TrainStart& start, const TrainingSet& all_data, TrainContext& ctx,
                                         XClassReport* report, const EncodedCorpus* reuse) {
  ASSIGN_OR_RETURN(v1::XClassConfig config, ResolveXClassConfig(start.config().xclass()));
  TrainingSet sampled;
  const TrainingSet* data_pointer = &all_data;
  if (config.max_documents() > 0 && all_data.texts.size() > static_cast<size_t>(config.max_documents())) {
    if (reuse != nullptr) return absl::InvalidArgumentError("a pre-encoded corpus cannot be sampled");
    sampled.classes = all_data.classes;
    for (size_t i : SampleDocuments(all_data.texts.size(), config.max_documents(), config.seed())) {
      sampled.texts.push_back(all_data.texts[i]);
      sampled.labels.push_back(all_data.labels[i]);
    }
    data_pointer = &sampled;
  }
  const TrainingSet& data = *data_pointer;
  const int classes = static_cast<int>(data.classes.size());
  if (classes < 2) {
    return absl::InvalidArgumentError("X-Class needs at least two class names (class_names in TrainStart)");
  }
  if (data.texts.size() < static_cast<size_t>(2 * classes)) {
    return absl::InvalidArgumentError(absl::StrCat("X-Class needs unlabeled documents to learn from: got ",
                                                   data.texts.size(), " for ", classes, " classes"));
  }
  XClassReport local_report;
  if (report == nullptr) report = &local_report;

  // With no encoder named, one is pretrained on the documents first. It takes the job's progress
  // up to 0.45 and the stages after it the rest, up to 0.915 (the training job goes on at 0.95).
  std::string source;
  encoder::CheckpointFiles checkpoint;
  std::optional<v1::EncoderState> pretrained_state;
  ProgressFn progress = ctx.progress;
  if (PretrainsEncoder(config)) {
    TrainContext pretraining = ctx;
    pretraining.progress = [&ctx](std::string_view stage, double f, std::string_view m) { ctx.progress(stage, 0.45 * f, m); };
    ASSIGN_OR_RETURN(encoder::PretrainedEncoder pretrained,
                     encoder::PretrainFromScratch(data.texts, config.pretrain_encoder(), pretraining));
    pretrained_state = encoder::DescribePretrained(config.pretrain_encoder(), pretrained);
    source = absl::StrFormat("pretrained on these %d documents (%d steps, MLM loss %.3f)", data.texts.size(),
                             pretrained.result.steps, pretrained.result.final_loss);
    checkpoint = std::move(pretrained.checkpoint);
    progress = [&ctx](std::string_view stage, double f, std::string_view m) { ctx.progress(stage, 0.45 + 0.5 * f, m); };
  } else {
    progress("load", 0.0, "loading the encoder");
    ASSIGN_OR_RETURN(checkpoint, ReadEncoderCheckpoint(config, ctx, &source));
  }
  ASSIGN_OR_RETURN(auto encoder, encoder::Encoder::Load(checkpoint, config.device()));
  const EncoderFacts facts{encoder->parameter_count(), encoder->config().num_hidden_layers,
                           encoder->config().max_position_embeddings, encoder->on_cuda()};
  ASSIGN_OR_RETURN(config, ResolveForEncoder(config, facts));
  RETURN_IF_ERROR(ctx.cancel->Check());

  Stopwatch watch;
  EncodedCorpus encoded;
  if (reuse == nullptr) {
    progress("encode", kEncodeSpan.begin, absl::StrCat("encoding ", data.texts.size(), " documents on ",
                                                           encoder->device_name()));
    ASSIGN_OR_RETURN(encoded, EncodeCorpus(*encoder, data.texts, config, config.attention_weights(), ctx.cancel,
                                           [&](double f, std::string_view m) { progress("encode", kEncodeSpan.at(f), m); }));
    reuse = &encoded;
  } else if (reuse->layer != config.layer() || reuse->documents() != data.texts.size() ||
             reuse->hidden != encoder->config().hidden_size || (config.attention_weights() && !reuse->has_attention)) {
    return absl::InvalidArgumentError("the pre-encoded corpus does not match these documents and options");
  }
  report->seconds["encode"] = watch.seconds();
  RETURN_IF_ERROR(ctx.cancel->Check());

  std::vector<std::vector<std::string>> name_words;
  for (const std::string& name : data.classes) name_words.push_back(encoder->tokenizer().BasicTokenize(name));
  ASSIGN_OR_RETURN(report->alignment,
                   AlignDocuments(*reuse, data.classes, name_words, config, ctx.cancel, [&](double f, std::string_view m) {
                     progress(AlignStage(f), kAlignSpan.at(f), m);
                   }));
  const Alignment& alignment = report->alignment;
  for (const auto& [stage, seconds] : alignment.seconds) report->seconds[stage] = seconds;
  const size_t vocabulary_words = reuse->vocab.size();
  encoded = EncodedCorpus();  // the final stage needs the texts only
  reuse = nullptr;
  RETURN_IF_ERROR(ctx.cancel->Check());

  watch = Stopwatch();
  std::vector<std::string> texts;
  std::vector<int> labels;
  for (size_t i : alignment.selected) {
    texts.push_back(data.texts[i]);
    labels.push_back(alignment.aligned[i]);
  }
  const bool fine_tune = config.final_classifier() == v1::XClassConfig::FINE_TUNE;
  progress("final", kFinalSpan.begin,
               absl::StrCat(fine_tune ? "fine-tuning the encoder" : "fitting a head on frozen features", " on ",
                            texts.size(), " pseudo-labelled documents"));
  ASSIGN_OR_RETURN(FinalClassifierResult final_result,
                   TrainFinalClassifier(*encoder, texts, labels, classes, config, ctx.cancel,
                                        [&](double f, std::string_view m) { progress("final", kFinalSpan.at(f), m); }));
  report->final_train_loss = final_result.train_loss;
  report->seconds["final"] = watch.seconds();
  RETURN_IF_ERROR(ctx.cancel->Check());

  progress("write", 0.93, "writing the encoder and the head");
  if (fine_tune) {
    ASSIGN_OR_RETURN(checkpoint, encoder->Save());
  }
  RETURN_IF_ERROR(encoder::WriteCheckpointFolder(ctx.output_dir / kEncoderDir, checkpoint));
  ASSIGN_OR_RETURN(std::string head_bytes, HeadToSafetensors(final_result.head));
  RETURN_IF_ERROR(WriteFileDurably(ctx.output_dir / kHeadFile, head_bytes));

  v1::Manifest manifest;
  manifest.set_family(v1::XCLASS);
  for (const auto& name : data.classes) manifest.add_classes(name);
  *manifest.mutable_config() = start.config();
  *manifest.mutable_config()->mutable_xclass() = config;
  v1::XClassState* state = manifest.mutable_xclass();
  *state->mutable_resolved() = config;
  state->set_encoder_source(source);
  if (pretrained_state) *state->mutable_pretrained_encoder() = *pretrained_state;
  state->set_encoder_dir(kEncoderDir);
  state->set_head_file(kHeadFile);
  state->set_hidden_size(encoder->config().hidden_size);
  state->set_layers(encoder->config().num_hidden_layers);
  state->set_pca_components(alignment.pca_components);
  state->set_pca_explained_variance(alignment.pca_explained_variance);
  state->set_gmm_iterations(alignment.gmm_iterations);
  state->set_gmm_converged(alignment.gmm_converged);
  state->set_documents(static_cast<int64_t>(data.texts.size()));
  state->set_vocabulary_words(static_cast<int64_t>(vocabulary_words));
  state->set_final_train_loss(final_result.train_loss);
  state->set_feature_layer(fine_tune ? encoder->config().num_hidden_layers : config.layer());
  size_t agree = 0;
  for (size_t i = 0; i < alignment.aligned.size(); ++i) agree += alignment.aligned[i] == alignment.nearest[i] ? 1 : 0;
  state->set_rep_align_agreement(static_cast<double>(agree) / std::max<size_t>(1, alignment.aligned.size()));
  std::vector<int64_t> assigned(classes, 0), selected(classes, 0), nearest(classes, 0);
  std::vector<double> posterior(classes, 0.0);
  for (size_t i = 0; i < alignment.aligned.size(); ++i) {
    ++assigned[alignment.aligned[i]];
    ++nearest[alignment.nearest[i]];
  }
  for (size_t i : alignment.selected) {
    ++selected[alignment.aligned[i]];
    posterior[alignment.aligned[i]] += alignment.confidence[i];
  }
  for (int c = 0; c < classes; ++c) {
    v1::XClassClassStats* stats = state->add_classes();
    stats->set_label(data.classes[c]);
    for (const std::string& w : alignment.keywords[c]) stats->add_keywords(w);
    stats->set_assigned(assigned[c]);
    stats->set_selected(selected[c]);
    stats->set_nearest(nearest[c]);
    stats->set_mean_posterior(selected[c] > 0 ? posterior[c] / selected[c] : 0.0);
  }
  for (const auto& [stage, seconds] : report->seconds) (*state->mutable_stage_seconds())[stage] = seconds;
  return manifest;
}

}  // namespace textclf::xclass
