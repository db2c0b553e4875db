#include "core/jobs/quantize_job.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/jobs/published_versions.h"
#include "core/model/family_names.h"

namespace textclf {
namespace {

// "text_cnn, image_cnn": the families Quantize applies to, for messages.
std::string QuantizableNames(const FamilyTable& families) {
  std::vector<std::string> names;
  for (const FamilyDescriptor* f : families.all()) {
    if (f->quantize != nullptr) names.emplace_back(f->name);
  }
  return absl::StrJoin(names, ", ");
}

// The latest version that is not itself quantized (the latest of all when every one is).
absl::StatusOr<int64_t> LatestFloatVersion(registry::Repository& repository, const std::string& model) {
  ASSIGN_OR_RETURN(std::vector<int64_t> versions, repository.ListVersions(model));
  if (versions.empty()) return absl::NotFoundError(absl::StrCat("model ", model, " has no versions"));
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    auto candidate = repository.ReadManifest(model, *it);
    if (candidate.ok() && !candidate->cnn().has_quantization()) return *it;
  }
  return versions.back();
}

// Model inputs that point into the examples' texts and tensors.
QuantizationData InputsOf(const TrainingSet& examples) {
  QuantizationData data;
  auto add = [](const std::vector<std::string>& texts, const std::vector<v1::Tensor>& tensors,
                std::vector<ModelInput>* to) {
    for (const std::string& text : texts) to->push_back(ModelInput{text, nullptr});
    for (const v1::Tensor& tensor : tensors) to->push_back(ModelInput{{}, &tensor});
  };
  add(examples.calibration_texts, examples.calibration_tensors, &data.calibration);
  add(examples.eval_texts, examples.eval_tensors, &data.eval);
  data.calibration_labels = examples.calibration_labels;
  data.eval_labels = examples.eval_labels;
  return data;
}

}  // namespace

absl::StatusOr<QuantizeSource> FindQuantizeSource(const FamilyTable& families, registry::Repository& repository,
                                                  const v1::QuantizeStart& start) {
  int64_t version = start.version();
  if (version == 0) {
    ASSIGN_OR_RETURN(version, LatestFloatVersion(repository, start.model()));
  }
  ASSIGN_OR_RETURN(v1::Manifest manifest, repository.ReadManifest(start.model(), version));
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, families.Find(manifest.family()));
  if (family->quantize == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("Quantize applies to the quantizable families (",
                                                      QuantizableNames(families), "); ", start.model(), " is a ",
                                                      std::string(family->name), " model"));
  }
  // A target model of another family would mix families across its versions.
  auto target_versions = repository.ListVersions(start.target_model());
  if (target_versions.ok() && !target_versions->empty()) {
    auto target = repository.ReadManifest(start.target_model(), target_versions->back());
    if (target.ok() && target->family() != manifest.family()) {
      return absl::FailedPreconditionError(absl::StrCat("target_model ", start.target_model(), " is a ",
                                                        std::string(FamilyName(target->family())),
                                                        " model; choose another name"));
    }
  }
  return QuantizeSource{std::move(manifest), family};
}

absl::StatusOr<QuantizeOutcome> RunQuantizeJob(const FamilyDescriptor& family, const v1::QuantizeStart& start,
                                               const Model& source, const TrainingSet& examples,
                                               registry::ModelManager& models, const CancellationToken& cancel,
                                               const ProgressFn& progress) {
  registry::Repository& repository = models.repository();
  std::vector<std::filesystem::path> staging;
  struct Cleanup {
    registry::Repository& repo;
    std::vector<std::filesystem::path>& dirs;
    ~Cleanup() {
      for (const auto& d : dirs) repo.DiscardStagingDir(d);
    }
  } cleanup{repository, staging};
  QuantizationContext ctx;
  ctx.cancel = &cancel;
  ctx.progress = progress;
  ctx.new_output_dir = [&]() -> absl::StatusOr<std::filesystem::path> {
    auto dir = repository.CreateStagingDir(start.target_model());
    if (dir.ok()) staging.push_back(*dir);
    return dir;
  };
  const QuantizationData data = InputsOf(examples);
  ASSIGN_OR_RETURN(QuantizationResult result, family.quantize(source, start, data, ctx));
  RETURN_IF_ERROR(cancel.Check());

  QuantizeOutcome outcome;
  outcome.report = std::move(result.report);
  progress("publish", 0.96, absl::StrCat("publishing ", result.variants.size(), " version(s) of ", start.target_model()));
  // All or nothing: a variant that fails to publish or load takes back those already published.
  PublishedVersions published(models, start.target_model());
  for (size_t v = 0; v < result.variants.size(); ++v) {
    QuantizedVariant& variant = result.variants[v];
    ASSIGN_OR_RETURN(v1::Manifest manifest,
                     repository.Publish(variant.dir, start.target_model(), std::move(variant.manifest)));
    published.Add(manifest.version());
    v1::VariantReport* r = outcome.report.mutable_variants(static_cast<int>(v));
    r->set_model(start.target_model());
    r->set_version(manifest.version());
  }
  if (!start.skip_load()) {
    progress("load", 0.98, "loading the quantized versions");
    for (int64_t version : published.versions()) RETURN_IF_ERROR(models.Load(start.target_model(), version).status());
  }
  outcome.versions = published.versions();
  published.Keep();
  progress("done", 1.0,
           absl::StrCat("published ", start.target_model(), " version(s) ", absl::StrJoin(outcome.versions, ", ")));
  return outcome;
}

}  // namespace textclf
