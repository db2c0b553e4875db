// Quantize: collects the streamed calibration and evaluation examples, runs post-training
// quantization of a CNN model on the training job pool, relays its progress, publishes every
// variant, and leaves nothing behind when it fails or the client goes away.
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/cnn/quantize_options.h"
#include "core/common/status_macros.h"
#include "core/model/family.h"
#include "core/model/family_names.h"
#include "core/model/input_validation.h"
#include "core/registry/repository.h"
#include "server/classifier_service.h"
#include "server/call_note.h"
#include "server/grpc_status.h"
#include "server/job_stream.h"

namespace textclf::server {
namespace {

struct QuantizeOutcome {
  std::vector<int64_t> versions;
  v1::QuantizeReport report;
};

// The examples of a Quantize call, owned here; inputs point into them.
struct QuantizeExamples {
  std::vector<v1::Example> calibration, eval;
  std::vector<int> calibration_labels, eval_labels;

  QuantizationData Inputs() const {
    QuantizationData data;
    auto add = [](const std::vector<v1::Example>& from, std::vector<ModelInput>* to) {
      for (const v1::Example& e : from) to->push_back(e.has_tensor() ? ModelInput{{}, &e.tensor()} : ModelInput{e.text(), nullptr});
    };
    add(calibration, &data.calibration);
    add(eval, &data.eval);
    data.calibration_labels = calibration_labels;
    data.eval_labels = eval_labels;
    return data;
  }
};

// "text_cnn, image_cnn": the families Quantize applies to, for messages.
std::string QuantizableNames(const FamilyTable& families) {
  std::vector<std::string> names;
  for (const FamilyDescriptor* f : families.all()) {
    if (f->quantize != nullptr) names.emplace_back(f->name);
  }
  return absl::StrJoin(names, ", ");
}

struct QuantizeSource {
  v1::Manifest manifest;
  const FamilyDescriptor* family = nullptr;
};

// The source model version's manifest and family; FAILED_PRECONDITION for families Quantize does not
// apply to. Version 0 picks the latest float version: quantizing publishes new versions of the
// same model by default, and a second Quantize call should start from the float model again
// (an explicitly named quantized version is refused by the quantizer, naming its float source).
absl::StatusOr<QuantizeSource> SourceManifest(const FamilyTable& families, registry::Repository& repository,
                                              const v1::QuantizeStart& start) {
  int64_t version = start.version();
  if (version == 0) {
    auto versions = repository.ListVersions(start.model());
    if (!versions.ok()) return versions.status();
    if (versions->empty()) return absl::NotFoundError(absl::StrCat("model ", start.model(), " has no versions"));
    version = versions->back();
    for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
      auto candidate = repository.ReadManifest(start.model(), *it);
      if (candidate.ok() && !candidate->cnn().has_quantization()) {
        version = *it;
        break;
      }
    }
  }
  auto manifest = repository.ReadManifest(start.model(), version);
  if (!manifest.ok()) return manifest.status();
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, families.Find(manifest->family()));
  if (family->quantize == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("Quantize applies to the quantizable families (",
                                                      QuantizableNames(families), "); ", start.model(), " is a ", std::string(family->name), " model"));
  }
  // A target model of another family would mix families across its versions.
  auto target_versions = repository.ListVersions(start.target_model());
  if (target_versions.ok() && !target_versions->empty()) {
    auto target = repository.ReadManifest(start.target_model(), target_versions->back());
    if (target.ok() && target->family() != manifest->family()) {
      return absl::FailedPreconditionError(absl::StrCat("target_model ", start.target_model(), " is a ",
                                                        std::string(FamilyName(target->family())), " model; choose another name"));
    }
  }
  return QuantizeSource{*std::move(manifest), family};
}

absl::Status AddExamples(const v1::ExampleBatch& batch, const Model& model, const ExampleRules& rules,
                         const v1::ServerLimits& limits, int64_t* seen, int64_t* bytes, UploadBudget::Account& account,
                         QuantizeExamples* out) {
  for (const v1::Example& example : batch.examples()) {
    ++*seen;
    const std::string what = absl::StrCat("example ", *seen);
    if (batch.split() == v1::TRAIN) {
      return absl::InvalidArgumentError(absl::StrCat(what, " is in the TRAIN split; Quantize takes CALIBRATION and EVAL examples"));
    }
    if (!rules.tensors) {
      if (absl::Status s = ValidateText(example.text(), static_cast<size_t>(limits.max_text_bytes()), what); !s.ok()) return s;
    } else if (!example.has_tensor()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has no tensor; ", model.name(), " classifies images"));
    }
    const ModelInput input = rules.tensors ? ModelInput{{}, &example.tensor()} : ModelInput{example.text(), nullptr};
    if (absl::Status s = model.ValidateInput(input); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", std::string(s.message())));
    }
    const int label = model.ClassIndex(example.label());
    if (label < 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has label \"", example.label(),
                                                     "\", which the model does not know; its classes are ",
                                                     absl::StrJoin(model.manifest().classes(), ", ")));
    }
    // What the kept copy of the example costs in memory, not its payload.
    const int64_t cost = static_cast<int64_t>(example.SpaceUsedLong()) + static_cast<int64_t>(sizeof(v1::Example));
    if (*bytes + cost > limits.max_train_bytes()) {
      return absl::ResourceExhaustedError(absl::StrCat("the examples would take more than ", limits.max_train_bytes(),
                                                       " bytes of memory (max_train_bytes in the server config); send fewer"));
    }
    if (absl::Status s = account.Charge(cost); !s.ok()) return s;
    *bytes += cost;
    const bool calibration = batch.split() == v1::CALIBRATION;
    (calibration ? out->calibration : out->eval).push_back(example);
    (calibration ? out->calibration_labels : out->eval_labels).push_back(label);
  }
  return absl::OkStatus();
}

// Runs the quantization and publishes every variant, or none.
absl::StatusOr<QuantizeOutcome> RunQuantizeJob(const FamilyDescriptor& family, const v1::QuantizeStart& start,
                                               const Model& source,
                                               const QuantizeExamples& examples, registry::ModelManager& models,
                                               const CancellationToken& cancel, const ProgressFn& progress) {
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
  const QuantizationData data = examples.Inputs();
  auto result = family.quantize(source, start, data, ctx);
  if (!result.ok()) return result.status();
  if (absl::Status s = cancel.Check(); !s.ok()) return s;

  QuantizeOutcome outcome;
  outcome.report = std::move(result->report);
  progress("publish", 0.96, absl::StrCat("publishing ", result->variants.size(), " version(s) of ", start.target_model()));
  for (size_t v = 0; v < result->variants.size(); ++v) {
    QuantizedVariant& variant = result->variants[v];
    auto published = repository.Publish(variant.dir, start.target_model(), std::move(variant.manifest));
    if (!published.ok()) {
      // All or nothing: take back the variants already published.
      for (int64_t version : outcome.versions) (void)models.Delete(start.target_model(), version);
      return published.status();
    }
    outcome.versions.push_back(published->version());
    v1::VariantReport* r = outcome.report.mutable_variants(static_cast<int>(v));
    r->set_model(start.target_model());
    r->set_version(published->version());
  }
  if (!start.skip_load()) {
    progress("load", 0.98, "loading the quantized versions");
    for (int64_t version : outcome.versions) {
      if (auto loaded = models.Load(start.target_model(), version); !loaded.ok()) return loaded.status();
    }
  }
  progress("done", 1.0, absl::StrCat("published ", start.target_model(), " version(s) ", absl::StrJoin(outcome.versions, ", ")));
  return outcome;
}

}  // namespace

grpc::Status ClassifierService::Quantize(grpc::ServerContext* context,
                                         grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>* stream) {
  std::unique_ptr<StreamWatchdog::Watch> watch = deps_.watchdog->Arm(context);
  v1::QuantizeRequest request;
  if (!stream->Read(&request) || !request.has_start()) {
    return StreamEnded(*watch, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a QuantizeStart"));
  }
  auto resolved = cnn::ResolveQuantizeStart(request.start());
  if (!resolved.ok()) return ToGrpcStatus(resolved.status());
  const v1::QuantizeStart start = *resolved;
  NoteTarget(start.target_model());
  if (absl::Status s = registry::ValidateModelName(start.target_model()); !s.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("target_model: ", std::string(s.message())));
  }
  auto source_version = SourceManifest(deps_.models->families(), deps_.models->repository(), start);
  if (!source_version.ok()) return ToGrpcStatus(source_version.status());
  const FamilyDescriptor* family = source_version->family;
  // The job's place before the source model is loaded and any example read (see Train).
  absl::StatusOr<JobPool::Slot> slot = deps_.jobs->Reserve("quantize");
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  auto source = deps_.models->LoadDetached(start.model(), source_version->manifest.version());
  if (!source.ok()) return ToGrpcStatus(source.status());

  auto examples = std::make_shared<QuantizeExamples>();
  auto account = std::make_shared<UploadBudget::Account>(deps_.uploads);
  int64_t seen = 0, bytes = 0;
  watch->Touch();  // loading the source model was the server's time, not the client's
  while (stream->Read(&request)) {
    watch->Touch();
    if (request.has_start()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "QuantizeStart may only be the first message");
    }
    if (absl::Status s = AddExamples(request.batch(), **source, family->examples, deps_.limits, &seen, &bytes, *account, examples.get());
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  if (watch->fired() || context->IsCancelled()) {
    return StreamEnded(*watch, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled"));
  }
  watch.reset();  // from here the client waits for progress
  if (examples->calibration.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "no CALIBRATION examples were sent; send labelled examples in CALIBRATION batches");
  }

  registry::ModelManager* models = deps_.models;
  std::shared_ptr<const Model> model = *source;
  auto ran = RunJobWithProgress<QuantizeOutcome>(
      *deps_.jobs, std::move(*slot), JobLabel{"quantize", start.target_model(), ThisCall().caller}, *context, *stream,
      [=](const CancellationToken& cancel, const ProgressFn& progress) {
        (void)account;  // held until the job is done with the examples
        return RunQuantizeJob(*family, start, *model, *examples, *models, cancel, progress);
      });
  const bool client_gone = ran.client_gone;
  absl::StatusOr<QuantizeOutcome>& outcome = ran.outcome;
  if (!outcome.ok()) {
    if (client_gone) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the quantization");
    return ToGrpcStatus(outcome.status());
  }
  v1::QuantizeResponse response;
  v1::QuantizeResult* result = response.mutable_result();
  for (int64_t version : outcome->versions) result->add_versions(version);
  *result->mutable_report() = outcome->report;
  if (auto info = deps_.models->Describe(start.target_model()); info.ok()) *result->add_models() = *info;
  if (client_gone || context->IsCancelled() || !stream->Write(response)) {
    // The client never learned of these versions: take them back rather than leave orphans.
    for (int64_t version : outcome->versions) (void)deps_.models->Delete(start.target_model(), version);
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the quantization");
  }
  return grpc::Status::OK;
}

}  // namespace textclf::server
