// Collects streamed, labelled examples into a TrainingSet, validating each as it arrives so a
// bad example is reported by its position, before any work starts. Train, Quantize and Evaluate
// all take their examples through it: one set of rules (the family's ExampleRules, the server's
// limits) and one set of messages.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/jobs/upload_budget.h"
#include "core/model/family.h"
#include "core/model/model.h"
#include "core/model/training.h"
#include "textclf/v1/inputs.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf {

struct TrainingLimits {
  // What the examples may cost in memory, as ExampleMemoryCost counts it (not their payload:
  // a 1-byte text costs a few hundred bytes of bookkeeping).
  int64_t max_total_bytes = int64_t{1} << 30;
  size_t max_text_bytes = 65536;
};

// The memory an example costs from its arrival until its job is done: its strings' and tensor's
// heap, the builder's record of it (with a vector's growth slack) and its place in the
// TrainingSet the builder hands on.
int64_t ExampleMemoryCost(const v1::Example& example);

class ExampleCollector {
 public:
  // For a call on an existing model (Quantize, Evaluate): labels must be the model's classes,
  // every input passes the model's ValidateInput, and only `splits` are taken (`call` names the
  // call in the refusal; no splits: the split is not read and every example is an EVAL one).
  // The model must outlive the collector.
  static ExampleCollector ForModel(const Model& model, ExampleRules rules, std::string_view call,
                                   std::vector<v1::Split> splits, TrainingLimits limits,
                                   UploadBudget::Account* account = nullptr);

  // `class_names` may be empty: the classes are then the labels seen, sorted. Either way class
  // names follow ValidateClassName (core/model/names.h) and there are at most kMaxClasses.
  // `account` (may be null) is charged with every example's memory as well, so that uploads
  // together stay within the server's budget.
  // `rules` are the family's (FamilyDescriptor::examples).
  ExampleCollector(std::vector<std::string> class_names, TrainingLimits limits, ExampleRules rules = {},
                     UploadBudget::Account* account = nullptr);

  absl::Status Add(const v1::ExampleBatch& batch);

  // Checks that there are at least two classes and each has training examples (when the call
  // takes TRAIN examples).
  absl::StatusOr<TrainingSet> Finish();

  // The EVAL examples added so far, handed over and forgotten (their memory uncharged): for
  // Evaluate, which scores its stream a batch at a time.
  absl::StatusOr<TrainingSet> TakeEval();

  int64_t examples() const { return examples_; }
  int64_t bytes() const { return bytes_; }

 private:
  struct Raw {
    std::string text;
    std::string label;
    v1::Tensor tensor;
    int64_t cost = 0;  // charged to the limits and the account
  };
  bool Takes(v1::Split split) const;
  absl::Status CheckLabel(const v1::Example& example, const std::string& what);
  absl::Status CheckInput(const v1::Example& example, const std::string& what) const;

  std::vector<std::string> declared_;
  const Model* model_ = nullptr;  // ForModel: the model whose classes and inputs rule
  std::string call_ = "Train";
  std::vector<v1::Split> splits_ = {v1::TRAIN, v1::EVAL, v1::CALIBRATION};
  absl::Status declared_status_;  // the class names checked once, refused at the first Add
  std::set<std::string, std::less<>> labels_seen_;  // distinct labels, bounded by kMaxClasses
  TrainingLimits limits_;
  ExampleRules rules_;
  UploadBudget::Account* account_;
  std::vector<Raw> train_, eval_, calibration_;
  int64_t bytes_ = 0;
  int64_t examples_ = 0;
};

}  // namespace textclf
