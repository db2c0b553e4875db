#include "core/cnn/post_training_quantizer.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/cnn/activation_range.h"
#include "core/cnn/classification_report.h"
#include "core/cnn/cnn_model.h"
#include "core/cnn/model_writer.h"
#include "core/cnn/quantize_options.h"
#include "core/cnn/weight_quantizer.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/eval/temperature_scaling.h"
#include "core/model/family_names.h"

namespace textclf::cnn {
namespace {

constexpr size_t kBatch = 256;
// The first and last layers keep first_last_bits up to this share of the quantized weights.
constexpr double kFirstLastShareLimit = 0.10;

// Calibration statistics of every activation site, in the order the forward pass meets them.
class RangeObserver final : public ActivationHook {
 public:
  enum class Pass { kRange, kHistogram };
  void set_pass(Pass pass) { pass_ = pass; }

  torch::Tensor At(const std::string& site, const torch::Tensor& x) override {
    auto it = index_.find(site);
    if (it == index_.end()) {
      it = index_.emplace(site, sites_.size()).first;
      sites_.push_back(site);
      ranges_.emplace_back();
    }
    ActivationRange& range = ranges_[it->second];
    if (pass_ == Pass::kRange) {
      range.ObserveRange(x.min().item<float>(), x.max().item<float>());
    } else if (range.max_abs() > 0) {
      const torch::Tensor counts = torch::histc(x.abs().to(torch::kFloat), kHistogramBins, 0, range.max_abs()).contiguous();
      range.AddHistogram(std::span<const float>(counts.data_ptr<float>(), static_cast<size_t>(counts.numel())));
    }
    return x;
  }

  std::vector<v1::ActivationQuantizer> Quantizers(const v1::QuantizeStart& start) const {
    std::vector<v1::ActivationQuantizer> out;
    for (size_t i = 0; i < sites_.size(); ++i) {
      v1::ActivationQuantizer q;
      q.set_site(sites_[i]);
      q.set_is_unsigned(ranges_[i].is_unsigned());
      q.set_threshold(ranges_[i].Threshold(start.calibration(), start.percentile(), start.activation_bits()));
      out.push_back(q);
    }
    return out;
  }

 private:
  Pass pass_ = Pass::kRange;
  std::map<std::string, size_t> index_;
  std::vector<std::string> sites_;
  std::vector<ActivationRange> ranges_;
};

absl::StatusOr<LogitMatrix> LogitsOf(const Model& model, std::span<const ModelInput> inputs, const CancellationToken& cancel) {
  LogitMatrix m;
  m.rows = inputs.size();
  m.classes = model.num_classes();
  m.logits.reserve(m.rows * m.classes);
  const auto& cnn = static_cast<const CnnModel&>(model);
  for (size_t begin = 0; begin < inputs.size(); begin += kBatch) {
    RETURN_IF_ERROR(cancel.Check());
    const size_t end = std::min(inputs.size(), begin + kBatch);
    ASSIGN_OR_RETURN(std::vector<float> logits, cnn.Logits(inputs.subspan(begin, end - begin), Device{}));
    m.logits.insert(m.logits.end(), logits.begin(), logits.end());
  }
  return m;
}

absl::StatusOr<ModelFiles> ReadBack(const std::filesystem::path& dir, const v1::Manifest& manifest) {
  ModelFiles files;
  for (const std::string& name : {manifest.cnn().weights_file(), manifest.cnn().vocabulary_file()}) {
    if (name.empty()) continue;
    ASSIGN_OR_RETURN(files.contents[name], ReadFile(dir / name));
  }
  return files;
}

uint64_t WeightsFileBytes(const v1::Manifest& manifest) {
  for (const v1::FileEntry& f : manifest.files()) {
    if (f.path() == manifest.cnn().weights_file()) return f.size_bytes();
  }
  return 0;
}

}  // namespace

absl::StatusOr<QuantizationResult> QuantizeCnn(const Model& source, const v1::QuantizeStart& start,
                                               const QuantizationData& data, QuantizationContext& ctx) {
  const auto* cnn = dynamic_cast<const CnnModel*>(&source);
  if (cnn == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("Quantize applies to the CNN families (text_cnn, image_cnn); ",
                                                      source.name(), " is a ", std::string(FamilyName(source.manifest().family())),
                                                      " model"));
  }
  if (cnn->quantized()) {
    const v1::QuantizationInfo& q = source.manifest().cnn().quantization();
    return absl::FailedPreconditionError(absl::StrCat(
        source.name(), " version ", source.version(), " is already quantized (",
        VariantLabel(q.weight_bits(), q.activation_bits()), "); quantize its float source, ", q.source_model(),
        " version ", q.source_version()));
  }
  if (data.calibration.empty()) {
    return absl::InvalidArgumentError("no CALIBRATION examples were sent; quantization calibrates on them");
  }
  Stopwatch watch;
  const CancellationToken& cancel = *ctx.cancel;
  const bool own_eval = !data.eval.empty();
  std::span<const ModelInput> eval_inputs = own_eval ? std::span<const ModelInput>(data.eval) : data.calibration;
  std::span<const int> eval_labels = own_eval ? std::span<const int>(data.eval_labels) : data.calibration_labels;
  torch::InferenceMode inference;

  QuantizationResult result;
  v1::QuantizeReport& report = result.report;
  report.set_source_model(source.name());
  report.set_source_version(source.version());
  report.set_dataset(own_eval ? start.eval_dataset() : "calibration");
  report.set_calibration_examples(static_cast<int64_t>(data.calibration.size()));
  report.set_eval_examples(static_cast<int64_t>(eval_inputs.size()));

  ctx.progress("float", 0.02, absl::StrCat("evaluating the float model on ", eval_inputs.size(), " examples"));
  ASSIGN_OR_RETURN(LogitMatrix float_eval, LogitsOf(source, eval_inputs, cancel));
  ASSIGN_OR_RETURN(LogitMatrix float_calibration, LogitsOf(source, data.calibration, cancel));
  const double float_temperature = cnn->temperature();
  {
    v1::VariantReport* f = report.mutable_float_model();
    f->set_label("float");
    f->set_weight_bits(kFloatBits);
    f->set_activation_bits(kFloatBits);
    f->set_model(source.name());
    f->set_version(source.version());
    FillAccuracyAndCalibration(float_eval, eval_labels,
                               eval::FitTemperature(float_calibration.logits, data.calibration_labels, source.num_classes()), f);
    f->set_file_bytes(WeightsFileBytes(source.manifest()));
    f->set_file_fraction(1.0);
  }

  // The calibration inputs, encoded once.
  std::vector<torch::Tensor> calibration_batches;
  for (size_t begin = 0; begin < data.calibration.size(); begin += kBatch) {
    const size_t end = std::min(data.calibration.size(), begin + kBatch);
    calibration_batches.push_back(cnn->EncodeBatch(std::span<const ModelInput>(data.calibration).subspan(begin, end - begin)));
  }
  TensorMap folded = CloneToCpu(cnn->tensors());
  const Architecture& arch = cnn->architecture();
  const bool has_batch_norm = arch.family == v1::IMAGE_CNN;
  FoldBatchNorm(arch, &folded);
  std::map<std::string, bool> first_or_last;
  int64_t quantized_weights = 0, first_last_weights = 0;
  for (const auto& w : arch.QuantizableWeights()) {
    first_or_last[w.name] = w.first_or_last;
    const int64_t n = folded.at(w.name).numel();
    quantized_weights += n;
    if (w.first_or_last) first_last_weights += n;
  }
  // The first and last layers keep first_last_bits while they are a small part of the model.
  const double first_last_share =
      quantized_weights > 0 ? static_cast<double>(first_last_weights) / static_cast<double>(quantized_weights) : 0;
  const bool keep_first_last = start.first_last_bits() > 0 && first_last_share <= kFirstLastShareLimit;
  if (start.first_last_bits() > 0 && !keep_first_last) {
    ctx.progress("quantize", 0.04,
                 absl::StrFormat("the first and last layers hold %.1f%% of the weights (more than %.0f%%): they take "
                                 "the weight bits of the rest instead of %d",
                                 100 * first_last_share, 100 * kFirstLastShareLimit, start.first_last_bits()));
  }
  const bool per_channel = start.granularity() == v1::QuantizeStart::PER_CHANNEL;
  const bool float_activations = start.activation_bits() == kFloatBits;

  const int variants = start.weight_bits_size();
  for (int v = 0; v < variants; ++v) {
    RETURN_IF_ERROR(cancel.Check());
    const int bits = start.weight_bits(v);
    const std::string label = VariantLabel(bits, start.activation_bits());
    auto progress = [&](double within, const std::string& message) {
      ctx.progress("quantize", 0.05 + 0.9 * (v + within) / variants, absl::StrCat(label, ": ", message));
    };
    progress(0.0, "rounding the weights");
    // Weights: packed integers for the quantizable tensors, float for the rest (biases).
    std::vector<ArchiveTensor> archive;
    TensorMap served;  // what the quantized model computes with, for calibrating its activations
    for (const auto& [name, tensor] : folded) {
      std::vector<float> values = ToVector(tensor);
      auto role = first_or_last.find(name);
      if (role == first_or_last.end()) {
        served[name] = tensor;
        archive.push_back(FloatTensor(name, tensor.sizes().vec(), std::move(values)));
        continue;
      }
      const int tensor_bits = role->second && keep_first_last ? start.first_last_bits() : bits;
      const QuantizedWeights q = QuantizeSymmetric(values, per_channel ? tensor.size(0) : 1, tensor_bits);
      served[name] = ToTorch(tensor.sizes().vec(), Dequantize(q));
      archive.push_back(PackedTensor(name, tensor.sizes().vec(), q));
    }

    v1::QuantizationInfo info;
    info.set_source_model(source.name());
    info.set_source_version(source.version());
    info.set_weight_bits(bits);
    info.set_activation_bits(start.activation_bits());
    info.set_per_channel(per_channel);
    info.set_first_last_bits(keep_first_last ? start.first_last_bits() : bits);
    info.set_calibration(start.calibration());
    info.set_percentile(start.percentile());
    info.set_calibration_examples(static_cast<int64_t>(data.calibration.size()));
    info.set_batch_norm_folded(has_batch_norm);
    if (!float_activations) {
      progress(0.2, "calibrating activation ranges");
      RangeObserver observer;
      for (auto pass : {RangeObserver::Pass::kRange, RangeObserver::Pass::kHistogram}) {
        if (pass == RangeObserver::Pass::kHistogram && start.calibration() == v1::QuantizeStart::MIN_MAX) break;
        observer.set_pass(pass);
        for (const torch::Tensor& batch : calibration_batches) {
          RETURN_IF_ERROR(cancel.Check());
          ForwardOptions options;
          options.hook = &observer;
          arch.Forward(served, batch, options);
        }
      }
      for (const auto& q : observer.Quantizers(start)) *info.add_activations() = q;
    }

    progress(0.4, "writing the quantized model");
    ASSIGN_OR_RETURN(std::filesystem::path dir, ctx.new_output_dir());
    CnnModelParts parts;
    parts.family = source.manifest().family();
    parts.classes.assign(source.manifest().classes().begin(), source.manifest().classes().end());
    parts.config = source.manifest().config();
    parts.state.set_temperature(1.0);
    *parts.state.mutable_quantization() = info;
    parts.state.set_imported_from(source.manifest().cnn().imported_from());
    parts.tensors = std::move(archive);
    parts.vocabulary = cnn->vocabulary();
    ASSIGN_OR_RETURN(v1::Manifest manifest, WriteCnnModel(parts, dir));

    // Evaluate what will be served: the model loaded back from the files just written.
    progress(0.5, "evaluating the quantized model");
    ASSIGN_OR_RETURN(ModelFiles files, ReadBack(dir, manifest));
    ASSIGN_OR_RETURN(std::unique_ptr<Model> quantized, CnnModel::Load(manifest, files));
    ASSIGN_OR_RETURN(LogitMatrix calibration_logits, LogitsOf(*quantized, data.calibration, cancel));
    double temperature = 1.0;
    if (start.temperature_scaling()) {
      temperature = eval::FitTemperature(calibration_logits.logits, data.calibration_labels, source.num_classes());
    }
    manifest.mutable_cnn()->set_temperature(temperature);
    ASSIGN_OR_RETURN(LogitMatrix eval_logits, LogitsOf(*quantized, eval_inputs, cancel));

    v1::VariantReport* r = report.add_variants();
    r->set_label(label);
    r->set_weight_bits(bits);
    r->set_activation_bits(start.activation_bits());
    FillAccuracyAndCalibration(eval_logits, eval_labels, temperature, r);
    FillSwaps(float_eval, float_temperature, eval_logits, eval_labels, r);
    r->set_file_bytes(files.contents[manifest.cnn().weights_file()].size());
    if (report.float_model().file_bytes() > 0) {
      r->set_file_fraction(static_cast<double>(r->file_bytes()) / static_cast<double>(report.float_model().file_bytes()));
    }
    progress(1.0, absl::StrFormat("top-1 %.4f (float %.4f), ECE %.4f -> %.4f after temperature %.3f", r->top1(),
                                  report.float_model().top1(), r->ece(), r->ece_after_temperature(), temperature));
    result.variants.push_back({bits, dir, std::move(manifest)});
  }
  report.set_seconds(watch.seconds());
  return result;
}

}  // namespace textclf::cnn
