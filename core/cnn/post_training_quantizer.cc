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

// What the stages of QuantizeCnn share: the float model's measurements and the folded weights
// every variant starts from.
struct Quantization {
  Quantization(const Model& source, const CnnModel& cnn, const v1::QuantizeStart& start, const QuantizationData& data,
               QuantizationContext& ctx)
      : source(source),
        cnn(cnn),
        arch(cnn.architecture()),
        start(start),
        data(data),
        ctx(ctx),
        cancel(*ctx.cancel),
        own_eval(!data.eval.empty()),
        eval_inputs(own_eval ? std::span<const ModelInput>(data.eval) : data.calibration),
        eval_labels(own_eval ? std::span<const int>(data.eval_labels) : data.calibration_labels),
        per_channel(start.granularity() == v1::QuantizeStart::PER_CHANNEL),
        float_activations(start.activation_bits() == kFloatBits) {}

  const Model& source;
  const CnnModel& cnn;
  const Architecture& arch;
  const v1::QuantizeStart& start;
  const QuantizationData& data;
  QuantizationContext& ctx;
  const CancellationToken& cancel;
  // Without EVAL examples the report evaluates on the calibration examples.
  const bool own_eval;
  const std::span<const ModelInput> eval_inputs;
  const std::span<const int> eval_labels;
  const bool per_channel;
  const bool float_activations;

  QuantizationResult result;
  LogitMatrix float_eval;
  double float_temperature = 1.0;
  std::vector<torch::Tensor> calibration_batches;  // the calibration inputs, encoded once
  TensorMap folded;                                // float weights with batch norms folded in
  bool has_batch_norm = false;
  std::map<std::string, bool> first_or_last;  // the quantizable weights: in the first or last layer?
  bool keep_first_last = false;
};

// One bit-width of the sweep, from rounded weights to the evaluated model written on disk.
struct Variant {
  int index = 0;
  int bits = 0;
  std::string label;
  std::vector<ArchiveTensor> archive;  // packed integers for the quantizable tensors, float for the rest (biases)
  TensorMap served;                    // what the quantized model computes with, for calibrating its activations
  v1::QuantizationInfo info;
  std::filesystem::path dir;
  v1::Manifest manifest;
};

absl::StatusOr<const CnnModel*> CheckSource(const Model& source, const QuantizationData& data) {
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
  return cnn;
}

void StartReport(Quantization& q) {
  v1::QuantizeReport& report = q.result.report;
  report.set_source_model(q.source.name());
  report.set_source_version(q.source.version());
  report.set_dataset(q.own_eval ? q.start.eval_dataset() : "calibration");
  report.set_calibration_examples(static_cast<int64_t>(q.data.calibration.size()));
  report.set_eval_examples(static_cast<int64_t>(q.eval_inputs.size()));
}

absl::Status EvaluateFloatModel(Quantization& q) {
  q.ctx.progress("float", 0.02, absl::StrCat("evaluating the float model on ", q.eval_inputs.size(), " examples"));
  ASSIGN_OR_RETURN(q.float_eval, LogitsOf(q.source, q.eval_inputs, q.cancel));
  ASSIGN_OR_RETURN(LogitMatrix float_calibration, LogitsOf(q.source, q.data.calibration, q.cancel));
  q.float_temperature = q.cnn.temperature();
  v1::VariantReport* f = q.result.report.mutable_float_model();
  f->set_label("float");
  f->set_weight_bits(kFloatBits);
  f->set_activation_bits(kFloatBits);
  f->set_model(q.source.name());
  f->set_version(q.source.version());
  FillAccuracyAndCalibration(
      q.float_eval, q.eval_labels,
      eval::FitTemperature(float_calibration.logits, q.data.calibration_labels, q.source.num_classes()), f);
  f->set_file_bytes(WeightsFileBytes(q.source.manifest()));
  f->set_file_fraction(1.0);
  return absl::OkStatus();
}

void EncodeCalibrationBatches(Quantization& q) {
  const std::span<const ModelInput> calibration(q.data.calibration);
  for (size_t begin = 0; begin < calibration.size(); begin += kBatch) {
    const size_t end = std::min(calibration.size(), begin + kBatch);
    q.calibration_batches.push_back(q.cnn.EncodeBatch(calibration.subspan(begin, end - begin)));
  }
}

void FoldWeights(Quantization& q) {
  q.folded = CloneToCpu(q.cnn.tensors());
  q.has_batch_norm = q.arch.family == v1::IMAGE_CNN;
  FoldBatchNorm(q.arch, &q.folded);
}

// The first and last layers keep first_last_bits while they are a small part of the model.
void ChooseFirstLastBits(Quantization& q) {
  int64_t quantized_weights = 0, first_last_weights = 0;
  for (const auto& w : q.arch.QuantizableWeights()) {
    q.first_or_last[w.name] = w.first_or_last;
    const int64_t n = q.folded.at(w.name).numel();
    quantized_weights += n;
    if (w.first_or_last) first_last_weights += n;
  }
  const double first_last_share =
      quantized_weights > 0 ? static_cast<double>(first_last_weights) / static_cast<double>(quantized_weights) : 0;
  q.keep_first_last = q.start.first_last_bits() > 0 && first_last_share <= kFirstLastShareLimit;
  if (q.start.first_last_bits() > 0 && !q.keep_first_last) {
    q.ctx.progress("quantize", 0.04,
                   absl::StrFormat("the first and last layers hold %.1f%% of the weights (more than %.0f%%): they take "
                                   "the weight bits of the rest instead of %d",
                                   100 * first_last_share, 100 * kFirstLastShareLimit, q.start.first_last_bits()));
  }
}

void VariantProgress(const Quantization& q, const Variant& v, double within, const std::string& message) {
  const int variants = q.start.weight_bits_size();
  q.ctx.progress("quantize", 0.05 + 0.9 * (v.index + within) / variants, absl::StrCat(v.label, ": ", message));
}

void RoundWeights(const Quantization& q, Variant& v) {
  VariantProgress(q, v, 0.0, "rounding the weights");
  for (const auto& [name, tensor] : q.folded) {
    std::vector<float> values = ToVector(tensor);
    auto role = q.first_or_last.find(name);
    if (role == q.first_or_last.end()) {
      v.served[name] = tensor;
      v.archive.push_back(FloatTensor(name, tensor.sizes().vec(), std::move(values)));
      continue;
    }
    const int tensor_bits = role->second && q.keep_first_last ? q.start.first_last_bits() : v.bits;
    const QuantizedWeights w = QuantizeSymmetric(values, q.per_channel ? tensor.size(0) : 1, tensor_bits);
    v.served[name] = ToTorch(tensor.sizes().vec(), Dequantize(w));
    v.archive.push_back(PackedTensor(name, tensor.sizes().vec(), w));
  }
}

void DescribeVariant(const Quantization& q, Variant& v) {
  v1::QuantizationInfo& info = v.info;
  info.set_source_model(q.source.name());
  info.set_source_version(q.source.version());
  info.set_weight_bits(v.bits);
  info.set_activation_bits(q.start.activation_bits());
  info.set_per_channel(q.per_channel);
  info.set_first_last_bits(q.keep_first_last ? q.start.first_last_bits() : v.bits);
  info.set_calibration(q.start.calibration());
  info.set_percentile(q.start.percentile());
  info.set_calibration_examples(static_cast<int64_t>(q.data.calibration.size()));
  info.set_batch_norm_folded(q.has_batch_norm);
}

absl::Status CalibrateActivations(const Quantization& q, Variant& v) {
  if (q.float_activations) return absl::OkStatus();
  VariantProgress(q, v, 0.2, "calibrating activation ranges");
  RangeObserver observer;
  for (auto pass : {RangeObserver::Pass::kRange, RangeObserver::Pass::kHistogram}) {
    if (pass == RangeObserver::Pass::kHistogram && q.start.calibration() == v1::QuantizeStart::MIN_MAX) break;
    observer.set_pass(pass);
    for (const torch::Tensor& batch : q.calibration_batches) {
      RETURN_IF_ERROR(q.cancel.Check());
      ForwardOptions options;
      options.hook = &observer;
      q.arch.Forward(v.served, batch, options);
    }
  }
  for (const auto& a : observer.Quantizers(q.start)) *v.info.add_activations() = a;
  return absl::OkStatus();
}

absl::Status WriteVariant(const Quantization& q, Variant& v) {
  VariantProgress(q, v, 0.4, "writing the quantized model");
  ASSIGN_OR_RETURN(v.dir, q.ctx.new_output_dir());
  const v1::Manifest& source = q.source.manifest();
  CnnModelParts parts;
  parts.family = source.family();
  parts.classes.assign(source.classes().begin(), source.classes().end());
  parts.config = source.config();
  parts.state.set_temperature(1.0);
  *parts.state.mutable_quantization() = v.info;
  parts.state.set_imported_from(source.cnn().imported_from());
  parts.tensors = std::move(v.archive);
  parts.vocabulary = q.cnn.vocabulary();
  ASSIGN_OR_RETURN(v.manifest, WriteCnnModel(parts, v.dir));
  return absl::OkStatus();
}

// Evaluate what will be served: the model loaded back from the files just written.
absl::Status EvaluateVariant(Quantization& q, Variant& v) {
  VariantProgress(q, v, 0.5, "evaluating the quantized model");
  ASSIGN_OR_RETURN(ModelFiles files, ReadBack(v.dir, v.manifest));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> quantized, CnnModel::Load(v.manifest, files));
  ASSIGN_OR_RETURN(LogitMatrix calibration_logits, LogitsOf(*quantized, q.data.calibration, q.cancel));
  double temperature = 1.0;
  if (q.start.temperature_scaling()) {
    temperature = eval::FitTemperature(calibration_logits.logits, q.data.calibration_labels, q.source.num_classes());
  }
  v.manifest.mutable_cnn()->set_temperature(temperature);
  ASSIGN_OR_RETURN(LogitMatrix eval_logits, LogitsOf(*quantized, q.eval_inputs, q.cancel));

  v1::QuantizeReport& report = q.result.report;
  v1::VariantReport* r = report.add_variants();
  r->set_label(v.label);
  r->set_weight_bits(v.bits);
  r->set_activation_bits(q.start.activation_bits());
  FillAccuracyAndCalibration(eval_logits, q.eval_labels, temperature, r);
  FillSwaps(q.float_eval, q.float_temperature, eval_logits, q.eval_labels, r);
  r->set_file_bytes(files.contents[v.manifest.cnn().weights_file()].size());
  if (report.float_model().file_bytes() > 0) {
    r->set_file_fraction(static_cast<double>(r->file_bytes()) / static_cast<double>(report.float_model().file_bytes()));
  }
  VariantProgress(q, v, 1.0,
                  absl::StrFormat("top-1 %.4f (float %.4f), ECE %.4f -> %.4f after temperature %.3f", r->top1(),
                                  report.float_model().top1(), r->ece(), r->ece_after_temperature(), temperature));
  return absl::OkStatus();
}

absl::Status QuantizeVariant(Quantization& q, int index) {
  Variant v;
  v.index = index;
  v.bits = q.start.weight_bits(index);
  v.label = VariantLabel(v.bits, q.start.activation_bits());
  RoundWeights(q, v);
  DescribeVariant(q, v);
  RETURN_IF_ERROR(CalibrateActivations(q, v));
  RETURN_IF_ERROR(WriteVariant(q, v));
  RETURN_IF_ERROR(EvaluateVariant(q, v));
  q.result.variants.push_back({v.bits, v.dir, std::move(v.manifest)});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QuantizationResult> QuantizeCnn(const Model& source, const v1::QuantizeStart& start,
                                               const QuantizationData& data, QuantizationContext& ctx) {
  ASSIGN_OR_RETURN(const CnnModel* cnn, CheckSource(source, data));
  Stopwatch watch;
  torch::InferenceMode inference;
  Quantization q(source, *cnn, start, data, ctx);
  StartReport(q);
  RETURN_IF_ERROR(EvaluateFloatModel(q));
  EncodeCalibrationBatches(q);
  FoldWeights(q);
  ChooseFirstLastBits(q);
  for (int v = 0; v < start.weight_bits_size(); ++v) {
    RETURN_IF_ERROR(q.cancel.Check());
    RETURN_IF_ERROR(QuantizeVariant(q, v));
  }
  q.result.report.set_seconds(watch.seconds());
  return std::move(q.result);
}

}  // namespace textclf::cnn
