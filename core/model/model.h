// The one interface every model family implements; the registry and the serving runtime know
// models only through it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/inputs.pb.h"

namespace textclf {

class ThreadPool;

// One item of a batch: a text, or a tensor for image models.
struct ModelInput {
  std::string_view text;
  const v1::Tensor* tensor = nullptr;
};

// Scores of a batch, row-major rows x classes.
struct ScoreMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> scores;         // the family's own scores; the row's argmax is the prediction
  std::vector<float> probabilities;  // each row sums to 1

  void Resize(size_t r, size_t c) {
    rows = r;
    cols = c;
    scores.assign(r * c, 0.f);
    probabilities.assign(r * c, 0.f);
  }
  float* score_row(size_t i) { return scores.data() + i * cols; }
  float* probability_row(size_t i) { return probabilities.data() + i * cols; }
  const float* score_row(size_t i) const { return scores.data() + i * cols; }
  const float* probability_row(size_t i) const { return probabilities.data() + i * cols; }
  size_t Argmax(size_t i) const;
};

// What a family keeps per model instance across batches on its device: for CUDA, the
// instance's own stream and pinned host buffers (core/torch). Opaque to everything else.
class DeviceContext {
 public:
  virtual ~DeviceContext() = default;
};

// Where a batch runs. CPU work spreads over `cpu_pool`; a CUDA instance has its `context`.
struct Device {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;
  ThreadPool* cpu_pool = nullptr;
  DeviceContext* context = nullptr;
};

class Model {
 public:
  explicit Model(v1::Manifest manifest) : manifest_(std::move(manifest)) {}
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const v1::Manifest& manifest() const { return manifest_; }
  const std::string& name() const { return manifest_.name(); }
  int64_t version() const { return manifest_.version(); }
  size_t num_classes() const { return static_cast<size_t>(manifest_.classes_size()); }
  const std::string& class_name(size_t i) const { return manifest_.classes(static_cast<int>(i)); }
  // Index of a class label, or -1.
  int ClassIndex(std::string_view label) const;
  // The class whose score ranks examples for ROC AUC in binary models; -1 otherwise.
  virtual int positive_class() const { return num_classes() == 2 ? 1 : -1; }

  // How this version computes, where a family has more than one way (shown by ModelStatistics),
  // e.g. "int8 kernels (onednn) on CPU; simulated int8 on CUDA"; empty: the family's only way.
  virtual std::string execution() const { return {}; }

  // Checks one input before it is queued; the message says what to fix.
  virtual absl::Status ValidateInput(const ModelInput& input) const = 0;

  // Classifies a batch on `device`; resizes `out` to batch.size() x num_classes().
  virtual absl::Status Run(std::span<const ModelInput> batch, const Device& device,
                           ScoreMatrix* out) const = 0;

 private:
  v1::Manifest manifest_;
};

}  // namespace textclf
