#include "core/jobs/training_job.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"
#include "core/eval/model_evaluation.h"
#include "core/jobs/published_versions.h"
#include "core/model/names.h"
#include "google/protobuf/util/time_util.h"

namespace textclf {

namespace {

// What the stages of one training job share.
struct TrainingRun {
  const v1::TrainStart& start;
  const TrainingSet& data;
  registry::ModelManager& models;
  ThreadPool& pool;
  const CancellationToken& cancel;
  const ProgressFn& progress;
  std::string eval_dataset;
  std::filesystem::path staging;
  size_t eval_examples = 0;
  LoadedVersion loaded;  // the published version, once loaded (with its scheduler when served)
  TrainingOutcome outcome;
};

// Version 0 names the latest version on disk.
absl::StatusOr<int64_t> ResolveVersion(registry::Repository& repository, const std::string& name, int64_t version) {
  if (version != 0) return version;
  ASSIGN_OR_RETURN(std::vector<int64_t> versions, repository.ListVersions(name));
  if (versions.empty()) return absl::NotFoundError(absl::StrCat("model ", name, " has no versions"));
  return versions.back();
}

// The family's trainer writes into the staging folder; its manifest gets the job's facts.
absl::StatusOr<v1::Manifest> Train(const FamilyDescriptor& family, TrainingRun& run) {
  registry::Repository& repository = run.models.repository();
  TrainContext ctx;
  ctx.pool = &run.pool;
  ctx.cancel = &run.cancel;
  ctx.progress = run.progress;
  ctx.output_dir = run.staging;
  ctx.read_model_files = [&repository](std::string name, int64_t version) -> absl::StatusOr<ModelFiles> {
    ASSIGN_OR_RETURN(version, ResolveVersion(repository, name, version));
    ASSIGN_OR_RETURN(v1::Manifest manifest, repository.ReadManifest(name, version));
    return repository.ReadVerifiedFiles(manifest);
  };
  registry::ModelManager& models = run.models;
  ctx.load_model = [&models](std::string name, int64_t version) -> absl::StatusOr<LoadedVersion> {
    ASSIGN_OR_RETURN(version, ResolveVersion(models.repository(), name, version));
    if (auto loaded = models.Find(name, version); loaded.ok() || !absl::IsFailedPrecondition(loaded.status())) {
      return loaded;
    }
    RETURN_IF_ERROR(models.Load(name, version).status());
    return models.Find(name, version);
  };
  Stopwatch watch;
  const auto started = google::protobuf::util::TimeUtil::GetCurrentTime();
  ASSIGN_OR_RETURN(v1::Manifest manifest, family.train(run.start, run.data, ctx));
  run.outcome.seconds = watch.seconds();
  v1::TrainingInfo* info = manifest.mutable_training();
  info->set_train_examples(static_cast<int64_t>(run.data.texts.size() + run.data.tensors.size()));
  info->set_eval_examples(static_cast<int64_t>(run.eval_examples));
  info->set_seconds(run.outcome.seconds);
  *info->mutable_started_at() = started;
  return manifest;
}

absl::Status PublishAndLoad(v1::Manifest manifest, TrainingRun& run, PublishedVersions& published) {
  // The last moment a cancelled client can stop the publish.
  RETURN_IF_ERROR(run.cancel.Check());
  run.progress("publish", 0.95, "publishing the new version");
  ASSIGN_OR_RETURN(run.outcome.manifest,
                   run.models.repository().Publish(run.staging, run.start.model(), std::move(manifest)));
  const int64_t version = run.outcome.manifest.version();
  published.Add(version);
  if (!run.start.skip_load()) {
    run.progress("load", 0.96, absl::StrCat("loading version ", version));
    RETURN_IF_ERROR(run.models.ApplyPolicy(run.start.model()));
    auto loaded = run.models.Find(run.start.model(), version);
    if (loaded.ok()) run.loaded = *std::move(loaded);
  }
  return absl::OkStatus();
}

// Scores the EVAL split with the published version and records the metrics beside it. A loaded
// version is scored through its scheduler as BULK work, like the Evaluate RPC; one the job did not
// load (skip_load) runs on the training pool.
absl::Status Evaluate(TrainingRun& run) {
  const int64_t version = run.outcome.manifest.version();
  run.progress("evaluate", 0.97, absl::StrCat("evaluating on ", run.eval_examples, " examples"));
  if (run.loaded.model == nullptr) {
    ASSIGN_OR_RETURN(run.loaded.model, run.models.LoadDetached(run.start.model(), version));
  }
  const Model& model = *run.loaded.model;
  eval::MetricsAccumulator metrics = eval::AccumulatorFor(model);
  Stopwatch eval_watch;
  const Device fallback{Device::Kind::kCpu, 0, &run.pool};
  std::vector<ModelInput> inputs;
  inputs.reserve(run.eval_examples);
  for (const std::string& text : run.data.eval_texts) inputs.push_back(ModelInput{text, nullptr});
  for (const v1::Tensor& tensor : run.data.eval_tensors) inputs.push_back(ModelInput{{}, &tensor});
  const CancellationToken& cancel = run.cancel;
  const eval::ScoreFn score = [&](std::span<const ModelInput> chunk, ScoreMatrix* out) {
    absl::Status s = run.loaded.Score(chunk, v1::BULK, [&cancel] { return cancel.cancelled(); }, out, fallback);
    // A queue kept full (or slow) by serving traffic must not fail a job that already published:
    // the chunk then runs on the training pool instead.
    if (absl::IsResourceExhausted(s) || absl::IsDeadlineExceeded(s)) s = model.Run(chunk, fallback, out);
    return s;
  };
  RETURN_IF_ERROR(eval::AddPredictions(model, std::span<const ModelInput>(inputs), run.data.eval_labels, score,
                                       kBulkRequestInputs, &metrics));
  v1::EvalMetrics m = metrics.Finish();
  m.set_seconds(eval_watch.seconds());
  m.set_examples_per_s(m.seconds() > 0 ? m.examples() / m.seconds() : 0);
  m.set_dataset(run.eval_dataset);
  *m.mutable_evaluated_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
  RETURN_IF_ERROR(run.models.repository().RecordMetrics(run.start.model(), version, m));
  run.outcome.eval = std::move(m);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingOutcome> RunTrainingJob(const v1::TrainStart& start, const TrainingSet& data,
                                               registry::ModelManager& models, ThreadPool& pool,
                                               const CancellationToken& cancel,
                                               const ProgressFn& progress) {
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, models.families().Find(start.family()));
  TrainingRun run{start, data, models, pool, cancel, progress};
  // Text families fill the text vectors, tensor families (IMAGE_CNN) the tensor ones.
  run.eval_examples = data.eval_texts.size() + data.eval_tensors.size();
  // Checked before any work: the name is recorded in metrics.json only once training is done.
  run.eval_dataset = start.eval_dataset().empty() ? "eval" : start.eval_dataset();
  RETURN_IF_ERROR(ValidateDatasetName(run.eval_dataset));
  registry::Repository& repository = models.repository();
  ASSIGN_OR_RETURN(run.staging, repository.CreateStagingDir(start.model()));
  // Whatever happens below, the staging folder does not outlive the job.
  struct Cleanup {
    registry::Repository& repo;
    std::filesystem::path dir;
    ~Cleanup() { repo.DiscardStagingDir(dir); }
  } cleanup{repository, run.staging};

  ASSIGN_OR_RETURN(v1::Manifest manifest, Train(*family, run));
  // A job that fails (or is cancelled) after publishing takes its version back.
  PublishedVersions published(models, start.model());
  RETURN_IF_ERROR(PublishAndLoad(std::move(manifest), run, published));
  if (run.eval_examples > 0) RETURN_IF_ERROR(Evaluate(run));
  published.Keep();
  progress("done", 1.0, absl::StrCat("published ", start.model(), " version ", run.outcome.manifest.version()));
  return std::move(run.outcome);
}

}  // namespace textclf
