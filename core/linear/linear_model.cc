#include "core/linear/linear_model.h"

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/eval/temperature_scaling.h"

namespace textclf::linear {

static_assert(std::endian::native == std::endian::little, "weights.* are read as is");

namespace {

using Storage = v1::LinearConfig::WeightStorage;

Storage Resolved(Storage storage) { return storage == v1::LinearConfig::WEIGHT_STORAGE_AUTO ? v1::LinearConfig::FLOAT32 : storage; }

size_t BytesPerWeight(Storage storage) {
  switch (Resolved(storage)) {
    case v1::LinearConfig::FLOAT16:
      return 2;
    case v1::LinearConfig::INT8:
      return 1;
    default:
      return 4;
  }
}

template <typename T>
void Append(std::string& bytes, const T* values, size_t n) {
  bytes.append(reinterpret_cast<const char*>(values), n * sizeof(T));
}

template <typename T>
std::vector<T> Take(std::string_view& bytes, size_t n) {
  std::vector<T> values(n);
  std::memcpy(values.data(), bytes.data(), n * sizeof(T));
  bytes.remove_prefix(n * sizeof(T));
  return values;
}

}  // namespace

const char* WeightsFileName(Storage storage) {
  switch (Resolved(storage)) {
    case v1::LinearConfig::FLOAT16:
      return "weights.f16";
    case v1::LinearConfig::INT8:
      return "weights.i8";
    default:
      return "weights.f32";
  }
}

void LinearWeights::Logits(std::span<const Feature> row, float* logits) const {
  if (!codes.empty()) {
    // Sums of codes per class, scaled once at the end.
    std::fill(logits, logits + classes, 0.0f);
    for (const Feature& f : row) {
      const int8_t* column = codes.data() + static_cast<size_t>(f.index) * classes;
      for (size_t c = 0; c < classes; ++c) logits[c] += f.value * static_cast<float>(column[c]);
    }
    for (size_t c = 0; c < classes; ++c) logits[c] = bias[c] + scales[c] * logits[c];
    return;
  }
  std::memcpy(logits, bias.data(), classes * sizeof(float));
  for (const Feature& f : row) {
    const float* column = w.data() + static_cast<size_t>(f.index) * classes;
    for (size_t c = 0; c < classes; ++c) logits[c] += f.value * column[c];
  }
}

std::string LinearWeights::Serialize(Storage storage) const {
  std::string bytes;
  bytes.reserve(w.size() * BytesPerWeight(storage) + 2 * classes * sizeof(float));
  switch (Resolved(storage)) {
    case v1::LinearConfig::FLOAT16: {
      std::vector<uint16_t> halves(w.size());
      for (size_t i = 0; i < w.size(); ++i) halves[i] = Eigen::numext::bit_cast<uint16_t>(Eigen::half(w[i]));
      Append(bytes, halves.data(), halves.size());
      break;
    }
    case v1::LinearConfig::INT8: {
      // Symmetric, one scale per class: its largest weight maps to 127.
      std::vector<float> class_scales(classes, 0.0f);
      for (size_t i = 0; i < w.size(); ++i) class_scales[i % classes] = std::max(class_scales[i % classes], std::abs(w[i]));
      for (float& s : class_scales) s = s > 0 ? s / 127.0f : 1.0f;
      std::vector<int8_t> out(w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        out[i] = static_cast<int8_t>(std::clamp(std::nearbyint(w[i] / class_scales[i % classes]), -127.0f, 127.0f));
      }
      Append(bytes, out.data(), out.size());
      Append(bytes, class_scales.data(), class_scales.size());
      break;
    }
    default:
      Append(bytes, w.data(), w.size());
  }
  Append(bytes, bias.data(), bias.size());
  return bytes;
}

absl::StatusOr<LinearWeights> LinearWeights::Parse(std::string_view bytes, size_t slots, size_t classes,
                                                   Storage storage) {
  const bool int8 = Resolved(storage) == v1::LinearConfig::INT8;
  // slots <= 2^24 and classes are bounded by the manifest's class list: no overflow here.
  const size_t expected =
      slots * classes * BytesPerWeight(storage) + (int8 ? classes * sizeof(float) : 0) + classes * sizeof(float);
  if (bytes.size() != expected) {
    return absl::DataLossError(absl::StrCat(WeightsFileName(storage), " has ", bytes.size(), " bytes; ", expected,
                                            " expected for ", slots, " slots x ", classes, " classes"));
  }
  LinearWeights weights;
  weights.slots = slots;
  weights.classes = classes;
  switch (Resolved(storage)) {
    case v1::LinearConfig::FLOAT16: {
      const std::vector<uint16_t> halves = Take<uint16_t>(bytes, slots * classes);
      weights.w.resize(halves.size());
      for (size_t i = 0; i < halves.size(); ++i) {
        weights.w[i] = static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(halves[i]));
      }
      break;
    }
    case v1::LinearConfig::INT8:
      weights.codes = Take<int8_t>(bytes, slots * classes);
      weights.scales = Take<float>(bytes, classes);
      for (float s : weights.scales) {
        if (!(s > 0) || !std::isfinite(s)) return absl::DataLossError("weights.i8: a class scale is not a positive number");
      }
      break;
    default:
      weights.w = Take<float>(bytes, slots * classes);
  }
  weights.bias = Take<float>(bytes, classes);
  return weights;
}

LinearModel::LinearModel(v1::Manifest manifest, LinearWeights weights)
    : Model(std::move(manifest)), state_(this->manifest().linear()), weights_(std::move(weights)) {}

absl::StatusOr<std::unique_ptr<Model>> LinearModel::Load(v1::Manifest manifest, const ModelFiles& files) {
  if (manifest.state_case() != v1::Manifest::kLinear) return absl::DataLossError("a LINEAR manifest without its state");
  const v1::LinearConfig& config = manifest.linear().resolved();
  if (config.hash_bits() < 1 || config.hash_bits() > 24) {
    return absl::DataLossError(absl::StrCat("hash_bits ", config.hash_bits(), " is outside 1..24"));
  }
  if (!v1::LinearConfig::WeightStorage_IsValid(config.weight_storage())) {
    return absl::DataLossError(absl::StrCat("unknown weight_storage ", config.weight_storage()));
  }
  const size_t classes = static_cast<size_t>(manifest.classes_size());
  if (classes < 2) return absl::DataLossError("a LINEAR model needs at least two classes");
  if (!(manifest.linear().temperature() > 0)) return absl::DataLossError("the temperature must be positive");
  ASSIGN_OR_RETURN(std::string_view bytes, files.Get(WeightsFileName(config.weight_storage())));
  ASSIGN_OR_RETURN(LinearWeights weights,
                   LinearWeights::Parse(bytes, size_t{1} << config.hash_bits(), classes, config.weight_storage()));
  return std::unique_ptr<Model>(new LinearModel(std::move(manifest), std::move(weights)));
}

absl::Status LinearModel::ValidateInput(const ModelInput& input) const {
  if (input.tensor != nullptr) return absl::InvalidArgumentError("a LINEAR model classifies texts, not tensors");
  return absl::OkStatus();
}

absl::Status LinearModel::Run(std::span<const ModelInput> batch, const Device&, ScoreMatrix* out) const {
  out->Resize(batch.size(), num_classes());
  thread_local FeatureScratch scratch;
  thread_local std::vector<Feature> row;
  const v1::LinearConfig& config = state_.resolved();
  for (size_t i = 0; i < batch.size(); ++i) {
    ExtractFeatures(batch[i].text, config, &scratch, &row);
    float* scores = out->score_row(i);
    weights_.Logits(row, scores);
    eval::SoftmaxWithTemperature(std::span<const float>(scores, num_classes()), state_.temperature(),
                                 std::span<float>(out->probability_row(i), num_classes()));
  }
  return absl::OkStatus();
}

std::string LinearModel::execution() const {
  const v1::LinearConfig& config = state_.resolved();
  const char* method = config.method() == v1::LinearConfig::NAIVE_BAYES ? "naive Bayes" : "logistic regression";
  switch (Resolved(config.weight_storage())) {
    case v1::LinearConfig::FLOAT16:
      return absl::StrCat(method, ", float16 weights (widened to float32 at load)");
    case v1::LinearConfig::INT8:
      return absl::StrCat(method, ", int8 weights (a scale per class)");
    default:
      return absl::StrCat(method, ", float32 weights");
  }
}

}  // namespace textclf::linear
