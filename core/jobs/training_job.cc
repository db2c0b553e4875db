#include "core/jobs/training_job.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"
#include "core/eval/model_evaluation.h"
#include "core/model/names.h"
#include "google/protobuf/util/time_util.h"

namespace textclf {

absl::StatusOr<TrainingOutcome> RunTrainingJob(const v1::TrainStart& start, const TrainingSet& data,
                                               registry::ModelManager& models, ThreadPool& pool,
                                               const CancellationToken& cancel,
                                               const ProgressFn& progress) {
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, models.families().Find(start.family()));
  // Checked before any work: the name is recorded in metrics.json only once training is done.
  const std::string eval_dataset = start.eval_dataset().empty() ? "eval" : start.eval_dataset();
  RETURN_IF_ERROR(ValidateDatasetName(eval_dataset));
  registry::Repository& repository = models.repository();
  ASSIGN_OR_RETURN(std::filesystem::path staging, repository.CreateStagingDir(start.model()));
  // Whatever happens below, the staging folder does not outlive the job.
  struct Cleanup {
    registry::Repository& repo;
    std::filesystem::path dir;
    ~Cleanup() { repo.DiscardStagingDir(dir); }
  } cleanup{repository, staging};

  TrainContext ctx;
  ctx.pool = &pool;
  ctx.cancel = &cancel;
  ctx.progress = progress;
  ctx.output_dir = staging;
  ctx.read_model_files = [&repository](std::string name, int64_t version) -> absl::StatusOr<ModelFiles> {
    if (version == 0) {
      ASSIGN_OR_RETURN(std::vector<int64_t> versions, repository.ListVersions(name));
      if (versions.empty()) return absl::NotFoundError(absl::StrCat("model ", name, " has no versions"));
      version = versions.back();
    }
    ASSIGN_OR_RETURN(v1::Manifest manifest, repository.ReadManifest(name, version));
    return repository.ReadVerifiedFiles(manifest);
  };
  Stopwatch watch;
  const auto started = google::protobuf::util::TimeUtil::GetCurrentTime();
  ASSIGN_OR_RETURN(v1::Manifest manifest, family->train(start, data, ctx));
  TrainingOutcome outcome;
  outcome.seconds = watch.seconds();
  v1::TrainingInfo* info = manifest.mutable_training();
  // Text families fill the text vectors, tensor families (IMAGE_CNN) the tensor ones.
  const size_t eval_examples = data.eval_texts.size() + data.eval_tensors.size();
  info->set_train_examples(static_cast<int64_t>(data.texts.size() + data.tensors.size()));
  info->set_eval_examples(static_cast<int64_t>(eval_examples));
  info->set_seconds(outcome.seconds);
  *info->mutable_started_at() = started;

  // The last moment a cancelled client can stop the publish.
  RETURN_IF_ERROR(cancel.Check());
  progress("publish", 0.95, "publishing the new version");
  ASSIGN_OR_RETURN(outcome.manifest, repository.Publish(staging, start.model(), std::move(manifest)));
  const int64_t version = outcome.manifest.version();

  std::shared_ptr<const Model> model;
  if (!start.skip_load()) {
    progress("load", 0.96, absl::StrCat("loading version ", version));
    RETURN_IF_ERROR(models.ApplyPolicy(start.model()));
    auto loaded = models.Get(start.model(), version);
    if (loaded.ok()) model = *loaded;
  }
  if (eval_examples > 0) {
    progress("evaluate", 0.97, absl::StrCat("evaluating on ", eval_examples, " examples"));
    if (model == nullptr) {
      ASSIGN_OR_RETURN(model, models.LoadDetached(start.model(), version));
    }
    eval::MetricsAccumulator metrics = eval::AccumulatorFor(*model);
    Stopwatch eval_watch;
    Device device{Device::Kind::kCpu, 0, &pool};
    std::vector<ModelInput> inputs;
    inputs.reserve(eval_examples);
    for (const std::string& text : data.eval_texts) inputs.push_back(ModelInput{text, nullptr});
    for (const v1::Tensor& tensor : data.eval_tensors) inputs.push_back(ModelInput{{}, &tensor});
    RETURN_IF_ERROR(eval::AddPredictions(*model, std::span<const ModelInput>(inputs), data.eval_labels, device, 256,
                                         &metrics));
    v1::EvalMetrics m = metrics.Finish();
    m.set_seconds(eval_watch.seconds());
    m.set_examples_per_s(m.seconds() > 0 ? m.examples() / m.seconds() : 0);
    m.set_dataset(eval_dataset);
    *m.mutable_evaluated_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
    RETURN_IF_ERROR(repository.RecordMetrics(start.model(), version, m));
    outcome.eval = std::move(m);
  }
  progress("done", 1.0, absl::StrCat("published ", start.model(), " version ", version));
  return outcome;
}

}  // namespace textclf
