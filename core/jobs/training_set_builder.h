// Collects streamed, labelled examples into a TrainingSet, validating each as it arrives so a
// bad example is reported by its position, before any training starts.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/jobs/upload_budget.h"
#include "core/model/family.h"
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

class TrainingSetBuilder {
 public:
  // `class_names` may be empty: the classes are then the labels seen, sorted. Either way class
  // names follow ValidateClassName (core/model/names.h) and there are at most kMaxClasses.
  // `account` (may be null) is charged with every example's memory as well, so that uploads
  // together stay within the server's budget.
  // `rules` are the family's (FamilyDescriptor::examples).
  TrainingSetBuilder(std::vector<std::string> class_names, TrainingLimits limits, ExampleRules rules = {},
                     UploadBudget::Account* account = nullptr);

  absl::Status Add(const v1::ExampleBatch& batch);

  // Checks that there are at least two classes and each has training examples.
  absl::StatusOr<TrainingSet> Finish();

  int64_t examples() const { return examples_; }
  int64_t bytes() const { return bytes_; }

 private:
  struct Raw {
    std::string text;
    std::string label;
    v1::Tensor tensor;
  };
  std::vector<std::string> declared_;
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
