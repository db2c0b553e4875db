// What the runtime reports as it works, for metrics and statistics; implementations must be
// cheap and thread-safe, since they run on the serving path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/model/model.h"

namespace textclf::runtime {

// Whether a method's outcomes are counted per model and version: the calls that serve or judge
// a model's predictions, whichever front door they came through (the others are counted per
// method only).
inline bool CountsPerModel(std::string_view method) {
  return method == "Classify" || method == "ModelInfer" || method == "HttpInfer" || method == "HttpClassify" ||
         method == "Evaluate" || method == "Feedback";
}

class RuntimeObserver {
 public:
  virtual ~RuntimeObserver() = default;
  // A request entered (+) or left (-) a model's queue.
  virtual void OnPending(const Model& model, int delta) {}
  // A batch of `size` inputs was computed in `compute_seconds`.
  virtual void OnBatch(const Model& model, size_t size, double compute_seconds) {}
  // The same batch, when some of its requests carried trace ids: those ids (for the log).
  virtual void OnBatchTraced(const Model& model, size_t size, double compute_seconds,
                             std::span<const std::string> trace_ids) {}
  // A request finished with `status`; probabilities of its top class per input, when computed.
  virtual void OnRequestDone(const Model& model, const absl::Status& status, size_t inputs,
                             double request_seconds, double queue_seconds, double compute_seconds,
                             std::span<const float> top_probabilities) {}
  // A model version became servable after `load_seconds`, or stopped being servable.
  virtual void OnModelLoaded(const Model& model, double load_seconds) {}
  virtual void OnModelUnloaded(const Model& model) {}
  // A label arrived for an earlier prediction; `online_accuracy` is over the recent window.
  virtual void OnFeedback(const Model& model, bool correct, double online_accuracy) {}
  // Evaluate (or training's EVAL split) measured a version on a named data set.
  virtual void OnEvaluation(const std::string& model, int64_t version, const v1::EvalMetrics& metrics) {}
  // Jobs of a kind ("train", "quantize") now running.
  virtual void OnJobsRunning(const std::string& kind, int running) {}
  // A call of the Classifier service ended, however it ended (refused before the queue too):
  // `method` ("Classify", ...), the model and version it concerned where the server knows them
  // (empty and 0 otherwise: a name no loaded model has never reaches a label), its status code
  // and how long it took.
  virtual void OnRpcDone(std::string_view method, const std::string& model, int64_t version, absl::StatusCode code,
                         double seconds) {}
};

// Fans one report out to several observers.
class ObserverList final : public RuntimeObserver {
 public:
  void Add(RuntimeObserver* observer) { observers_.push_back(observer); }
  void OnPending(const Model& m, int delta) override {
    for (auto* o : observers_) o->OnPending(m, delta);
  }
  void OnBatch(const Model& m, size_t size, double s) override {
    for (auto* o : observers_) o->OnBatch(m, size, s);
  }
  void OnBatchTraced(const Model& m, size_t size, double s, std::span<const std::string> ids) override {
    for (auto* o : observers_) o->OnBatchTraced(m, size, s, ids);
  }
  void OnRequestDone(const Model& m, const absl::Status& st, size_t n, double r, double q, double c,
                     std::span<const float> p) override {
    for (auto* o : observers_) o->OnRequestDone(m, st, n, r, q, c, p);
  }
  void OnModelLoaded(const Model& m, double s) override {
    for (auto* o : observers_) o->OnModelLoaded(m, s);
  }
  void OnModelUnloaded(const Model& m) override {
    for (auto* o : observers_) o->OnModelUnloaded(m);
  }
  void OnFeedback(const Model& m, bool correct, double accuracy) override {
    for (auto* o : observers_) o->OnFeedback(m, correct, accuracy);
  }
  void OnEvaluation(const std::string& m, int64_t v, const v1::EvalMetrics& metrics) override {
    for (auto* o : observers_) o->OnEvaluation(m, v, metrics);
  }
  void OnJobsRunning(const std::string& kind, int running) override {
    for (auto* o : observers_) o->OnJobsRunning(kind, running);
  }
  void OnRpcDone(std::string_view method, const std::string& model, int64_t version, absl::StatusCode code,
                 double seconds) override {
    for (auto* o : observers_) o->OnRpcDone(method, model, version, code, seconds);
  }

 private:
  std::vector<RuntimeObserver*> observers_;
};

}  // namespace textclf::runtime
