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
#include "core/common/thread_pool.h"
#include "core/common/training_heap.h"
#include "core/encoder/mlm_pretrainer.h"
#include "core/xclass/final_classifier.h"
#include "core/torch/intra_op_threads.h"
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

// What the stages of TrainXClass share, in the order they fill it in.
struct XClassTraining {
  XClassTraining(const v1::TrainStart& start, const TrainingSet& all_data, TrainContext& ctx, XClassReport* report,
                 const EncodedCorpus* reuse)
      : start(start),
        ctx(ctx),
        documents(&all_data),
        report(report != nullptr ? report : &local_report),
        corpus(reuse),
        progress(ctx.progress) {}

  const v1::TrainStart& start;
  TrainContext& ctx;
  v1::XClassConfig config;
  TrainingSet sampled;
  const TrainingSet* documents;  // all the data, or `sampled`
  int classes = 0;
  XClassReport local_report;
  XClassReport* report;
  const EncodedCorpus* corpus;  // the caller's, or `encoded`, until alignment is done
  // The job's progress, or its share after pretraining.
  ProgressFn progress;

  std::string source;  // where the encoder came from, for the manifest
  encoder::CheckpointFiles checkpoint;
  std::optional<v1::EncoderState> pretrained_state;
  std::unique_ptr<encoder::Encoder> text_encoder;
  EncodedCorpus encoded;
  size_t vocabulary_words = 0;
  FinalClassifierResult final_result;
  bool fine_tune = false;
};

absl::Status SampleDocumentsIfTooMany(XClassTraining& t) {
  const TrainingSet& all_data = *t.documents;
  if (t.config.max_documents() <= 0 || all_data.texts.size() <= static_cast<size_t>(t.config.max_documents())) {
    return absl::OkStatus();
  }
  if (t.corpus != nullptr) return absl::InvalidArgumentError("a pre-encoded corpus cannot be sampled");
  t.sampled.classes = all_data.classes;
  for (size_t i : SampleDocuments(all_data.texts.size(), t.config.max_documents(), t.config.seed())) {
    t.sampled.texts.push_back(all_data.texts[i]);
    t.sampled.labels.push_back(all_data.labels[i]);
  }
  t.documents = &t.sampled;
  return absl::OkStatus();
}

absl::Status CheckDocuments(XClassTraining& t) {
  const TrainingSet& data = *t.documents;
  t.classes = static_cast<int>(data.classes.size());
  if (t.classes < 2) {
    return absl::InvalidArgumentError("X-Class needs at least two class names (class_names in TrainStart)");
  }
  if (data.texts.size() < static_cast<size_t>(2 * t.classes)) {
    return absl::InvalidArgumentError(absl::StrCat("X-Class needs unlabeled documents to learn from: got ",
                                                   data.texts.size(), " for ", t.classes, " classes"));
  }
  return absl::OkStatus();
}

// With no encoder named, one is pretrained on the documents first. It takes the job's progress
// up to 0.45 and the stages after it the rest, up to 0.915 (the training job goes on at 0.95).
absl::Status ObtainEncoder(XClassTraining& t) {
  TrainContext& ctx = t.ctx;
  if (PretrainsEncoder(t.config)) {
    const std::vector<std::string>& texts = t.documents->texts;
    TrainContext pretraining = ctx;
    pretraining.progress = [&ctx](std::string_view stage, double f, std::string_view m) { ctx.progress(stage, 0.45 * f, m); };
    ASSIGN_OR_RETURN(encoder::PretrainedEncoder pretrained,
                     encoder::PretrainFromScratch(texts, t.config.pretrain_encoder(), pretraining));
    t.pretrained_state = encoder::DescribePretrained(t.config.pretrain_encoder(), pretrained);
    t.source = absl::StrFormat("pretrained on these %d documents (%d steps, MLM loss %.3f)", texts.size(),
                               pretrained.result.steps, pretrained.result.final_loss);
    t.checkpoint = std::move(pretrained.checkpoint);
    t.progress = [&ctx](std::string_view stage, double f, std::string_view m) { ctx.progress(stage, 0.45 + 0.5 * f, m); };
  } else {
    t.progress("load", 0.0, "loading the encoder");
    ASSIGN_OR_RETURN(t.checkpoint, ReadEncoderCheckpoint(t.config, ctx, &t.source));
  }
  ASSIGN_OR_RETURN(t.text_encoder, encoder::Encoder::Load(t.checkpoint, t.config.device()));
  const encoder::Encoder& e = *t.text_encoder;
  const EncoderFacts facts{e.parameter_count(), e.config().num_hidden_layers, e.config().max_position_embeddings,
                           e.on_cuda()};
  ASSIGN_OR_RETURN(t.config, ResolveForEncoder(t.config, facts));
  return absl::OkStatus();
}

absl::Status EncodeDocuments(XClassTraining& t) {
  const std::vector<std::string>& texts = t.documents->texts;
  const v1::XClassConfig& config = t.config;
  const encoder::Encoder& e = *t.text_encoder;
  Stopwatch watch;
  if (t.corpus == nullptr) {
    t.progress("encode", kEncodeSpan.begin, absl::StrCat("encoding ", texts.size(), " documents on ", e.device_name()));
    ASSIGN_OR_RETURN(t.encoded, EncodeCorpus(e, texts, config, config.attention_weights(), t.ctx.cancel,
                                             [&](double f, std::string_view m) { t.progress("encode", kEncodeSpan.at(f), m); }));
    t.corpus = &t.encoded;
  } else if (t.corpus->layer != config.layer() || t.corpus->documents() != texts.size() ||
             t.corpus->hidden != e.config().hidden_size || (config.attention_weights() && !t.corpus->has_attention)) {
    return absl::InvalidArgumentError("the pre-encoded corpus does not match these documents and options");
  }
  t.report->seconds["encode"] = watch.seconds();
  return absl::OkStatus();
}

absl::Status AlignWithClassNames(XClassTraining& t) {
  const TrainingSet& data = *t.documents;
  std::vector<std::vector<std::string>> name_words;
  for (const std::string& name : data.classes) name_words.push_back(t.text_encoder->tokenizer().BasicTokenize(name));
  ASSIGN_OR_RETURN(t.report->alignment,
                   AlignDocuments(*t.corpus, data.classes, name_words, t.config, t.ctx.cancel,
                                  [&](double f, std::string_view m) { t.progress(AlignStage(f), kAlignSpan.at(f), m); }));
  for (const auto& [stage, seconds] : t.report->alignment.seconds) t.report->seconds[stage] = seconds;
  t.vocabulary_words = t.corpus->vocab.size();
  t.encoded = EncodedCorpus();  // the final stage needs the texts only
  t.corpus = nullptr;
  return absl::OkStatus();
}

absl::Status TrainFinalStage(XClassTraining& t) {
  const Alignment& alignment = t.report->alignment;
  Stopwatch watch;
  std::vector<std::string> texts;
  std::vector<int> labels;
  for (size_t i : alignment.selected) {
    texts.push_back(t.documents->texts[i]);
    labels.push_back(alignment.aligned[i]);
  }
  t.fine_tune = t.config.final_classifier() == v1::XClassConfig::FINE_TUNE;
  t.progress("final", kFinalSpan.begin,
             absl::StrCat(t.fine_tune ? "fine-tuning the encoder" : "fitting a head on frozen features", " on ",
                          texts.size(), " pseudo-labelled documents"));
  // The final classifier trains on one thread of calls; its kernels get the training pool's cores.
  const torch_support::ScopedIntraOpThreads threads(t.ctx.pool != nullptr ? t.ctx.pool->size() : 1);
  const ScopedTrainingHeap heap;
  ASSIGN_OR_RETURN(t.final_result,
                   TrainFinalClassifier(*t.text_encoder, texts, labels, t.classes, t.config, t.ctx.cancel,
                                        [&](double f, std::string_view m) { t.progress("final", kFinalSpan.at(f), m); }));
  t.report->final_train_loss = t.final_result.train_loss;
  t.report->seconds["final"] = watch.seconds();
  return absl::OkStatus();
}

absl::Status WriteModelFiles(XClassTraining& t) {
  t.progress("write", 0.93, "writing the encoder and the head");
  if (t.fine_tune) {
    ASSIGN_OR_RETURN(t.checkpoint, t.text_encoder->Save());
  }
  RETURN_IF_ERROR(encoder::WriteCheckpointFolder(t.ctx.output_dir / kEncoderDir, t.checkpoint));
  ASSIGN_OR_RETURN(std::string head_bytes, HeadToSafetensors(t.final_result.head));
  return WriteFileDurably(t.ctx.output_dir / kHeadFile, head_bytes);
}

// Per class: its keywords and how many documents the alignment gave it, kept, and found nearest.
void AddClassStatistics(const XClassTraining& t, v1::XClassState* state) {
  const Alignment& alignment = t.report->alignment;
  const int classes = t.classes;
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
    stats->set_label(t.documents->classes[c]);
    for (const std::string& w : alignment.keywords[c]) stats->add_keywords(w);
    stats->set_assigned(assigned[c]);
    stats->set_selected(selected[c]);
    stats->set_nearest(nearest[c]);
    stats->set_mean_posterior(selected[c] > 0 ? posterior[c] / selected[c] : 0.0);
  }
}

v1::Manifest DescribeModel(const XClassTraining& t) {
  const TrainingSet& data = *t.documents;
  const v1::XClassConfig& config = t.config;
  const encoder::BertConfig& bert = t.text_encoder->config();
  const Alignment& alignment = t.report->alignment;
  v1::Manifest manifest;
  manifest.set_family(v1::XCLASS);
  for (const auto& name : data.classes) manifest.add_classes(name);
  *manifest.mutable_config() = t.start.config();
  *manifest.mutable_config()->mutable_xclass() = config;
  v1::XClassState* state = manifest.mutable_xclass();
  *state->mutable_resolved() = config;
  state->set_encoder_source(t.source);
  if (t.pretrained_state) *state->mutable_pretrained_encoder() = *t.pretrained_state;
  state->set_encoder_dir(kEncoderDir);
  state->set_head_file(kHeadFile);
  state->set_hidden_size(bert.hidden_size);
  state->set_layers(bert.num_hidden_layers);
  state->set_pca_components(alignment.pca_components);
  state->set_pca_explained_variance(alignment.pca_explained_variance);
  state->set_gmm_iterations(alignment.gmm_iterations);
  state->set_gmm_converged(alignment.gmm_converged);
  state->set_documents(static_cast<int64_t>(data.texts.size()));
  state->set_vocabulary_words(static_cast<int64_t>(t.vocabulary_words));
  state->set_final_train_loss(t.final_result.train_loss);
  state->set_feature_layer(t.fine_tune ? bert.num_hidden_layers : config.layer());
  AddClassStatistics(t, state);
  for (const auto& [stage, seconds] : t.report->seconds) (*state->mutable_stage_seconds())[stage] = seconds;
  return manifest;
}

}  // namespace

absl::StatusOr<v1::Manifest> TrainXClass(const v1::TrainStart& start, const TrainingSet& all_data, TrainContext& ctx,
                                         XClassReport* report, const EncodedCorpus* reuse) {
  XClassTraining t(start, all_data, ctx, report, reuse);
  ASSIGN_OR_RETURN(t.config, ResolveXClassConfig(start.config().xclass()));
  RETURN_IF_ERROR(SampleDocumentsIfTooMany(t));
  RETURN_IF_ERROR(CheckDocuments(t));
  RETURN_IF_ERROR(ObtainEncoder(t));
  RETURN_IF_ERROR(ctx.cancel->Check());
  RETURN_IF_ERROR(EncodeDocuments(t));
  RETURN_IF_ERROR(ctx.cancel->Check());
  RETURN_IF_ERROR(AlignWithClassNames(t));
  RETURN_IF_ERROR(ctx.cancel->Check());
  RETURN_IF_ERROR(TrainFinalStage(t));
  RETURN_IF_ERROR(ctx.cancel->Check());
  RETURN_IF_ERROR(WriteModelFiles(t));
  return DescribeModel(t);
}

}  // namespace textclf::xclass
