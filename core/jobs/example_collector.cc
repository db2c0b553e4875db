#include "core/jobs/example_collector.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/model/input_validation.h"
#include "core/model/names.h"

namespace textclf {

namespace {

// Heap bytes of a string: none while it fits the small-string buffer.
int64_t HeapBytes(const std::string& s) {
  return s.capacity() > std::string().capacity() ? static_cast<int64_t>(s.capacity()) + 1 : 0;
}

}  // namespace

int64_t ExampleMemoryCost(const v1::Example& example) {
  // The copies the builder keeps: exact sizes, as std::string(const&) allocates them.
  std::string text(example.text()), label(example.label());
  const int64_t tensor_heap = example.has_tensor()
                                  ? static_cast<int64_t>(example.tensor().SpaceUsedLong() - sizeof(v1::Tensor))
                                  : 0;
  // The builder's record, twice for a vector's growth; then a std::string (or Tensor) and an
  // int in the TrainingSet.
  constexpr int64_t kRecord = 2 * static_cast<int64_t>(sizeof(std::string) * 2 + sizeof(v1::Tensor));
  constexpr int64_t kSetEntry = static_cast<int64_t>(sizeof(v1::Tensor) + sizeof(int));
  return HeapBytes(text) + HeapBytes(label) + tensor_heap + kRecord + kSetEntry;
}

ExampleCollector::ExampleCollector(std::vector<std::string> class_names, TrainingLimits limits,
                                       ExampleRules rules, UploadBudget::Account* account)
    : declared_(std::move(class_names)), declared_status_(ValidateClassNames(declared_)), limits_(limits),
      rules_(rules), account_(account) {}

ExampleCollector ExampleCollector::ForModel(const Model& model, ExampleRules rules, std::string_view call,
                                            std::vector<v1::Split> splits, TrainingLimits limits,
                                            UploadBudget::Account* account) {
  ExampleCollector collector({model.manifest().classes().begin(), model.manifest().classes().end()}, limits, rules,
                             account);
  collector.model_ = &model;
  collector.call_ = std::string(call);
  collector.splits_ = std::move(splits);
  return collector;
}

bool ExampleCollector::Takes(v1::Split split) const {
  return std::find(splits_.begin(), splits_.end(), split) != splits_.end();
}

absl::Status ExampleCollector::CheckInput(const v1::Example& example, const std::string& what) const {
  if (rules_.tensors) {
    if (!example.has_tensor() || example.tensor().data().empty()) {
      return absl::InvalidArgumentError(
          model_ != nullptr ? absl::StrCat(what, " has no tensor; ", model_->name(), " classifies tensors (images)")
                            : absl::StrCat(what, " has no tensor; this family trains on tensors"));
    }
  } else {
    RETURN_IF_ERROR(ValidateText(example.text(), limits_.max_text_bytes, what));
  }
  if (model_ == nullptr) return absl::OkStatus();
  const ModelInput input = rules_.tensors ? ModelInput{{}, &example.tensor()} : ModelInput{example.text(), nullptr};
  if (absl::Status s = model_->ValidateInput(input); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", std::string(s.message())));
  }
  return absl::OkStatus();
}

absl::Status ExampleCollector::CheckLabel(const v1::Example& example, const std::string& what) {
  if (example.label().empty() && (rules_.labels_required || model_ != nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has no label; every ", call_, " example needs one"));
  }
  if (example.label().empty()) return absl::OkStatus();  // XCLASS, ENCODER_MLM: no class to check
  RETURN_IF_ERROR(ValidateClassName(example.label(), absl::StrCat("the label of ", what)));
  if (!declared_.empty() && std::find(declared_.begin(), declared_.end(), example.label()) == declared_.end()) {
    return absl::InvalidArgumentError(
        model_ != nullptr ? absl::StrCat(what, " has label \"", example.label(),
                                         "\", which the model does not know; its classes are ", absl::StrJoin(declared_, ", "))
                          : absl::StrCat(what, " has label \"", example.label(), "\", which is not one of the class names: ",
                                         absl::StrJoin(declared_, ", ")));
  }
  // Without declared names the labels become the classes, so their number is bounded too.
  if (declared_.empty() && !labels_seen_.contains(example.label())) {
    if (labels_seen_.size() >= kMaxClasses) {
      return absl::InvalidArgumentError(absl::StrCat(what, " brings a class beyond the limit of ", kMaxClasses,
                                                     " classes"));
    }
    labels_seen_.insert(example.label());
  }
  return absl::OkStatus();
}

absl::Status ExampleCollector::Add(const v1::ExampleBatch& batch) {
  // Refused before any example is kept: class names end up in the manifest, in metrics and in
  // every response that lists the classes.
  RETURN_IF_ERROR(declared_status_);
  for (const v1::Example& example : batch.examples()) {
    const std::string what = absl::StrCat("example ", examples_ + 1);
    if (!splits_.empty() && !Takes(batch.split())) {
      std::vector<std::string> names;
      for (v1::Split split : splits_) names.push_back(v1::Split_Name(split));
      return absl::InvalidArgumentError(absl::StrCat(what, " is in the ", v1::Split_Name(batch.split()), " split; ",
                                                     call_, " takes ", absl::StrJoin(names, " and "), " examples"));
    }
    RETURN_IF_ERROR(CheckInput(example, what));
    RETURN_IF_ERROR(CheckLabel(example, what));
    const int64_t cost = ExampleMemoryCost(example);
    if (bytes_ + cost > limits_.max_total_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the examples would take more than ", limits_.max_total_bytes,
          " bytes of memory (max_train_bytes in the server config, which counts every example's bookkeeping too, "
          "a few hundred bytes each); send less data"));
    }
    if (account_ != nullptr) RETURN_IF_ERROR(account_->Charge(cost));
    bytes_ += cost;
    ++examples_;
    std::vector<Raw>& split = splits_.empty() || batch.split() == v1::EVAL ? eval_
                              : batch.split() == v1::CALIBRATION     ? calibration_
                                                                     : train_;
    split.push_back({example.text(), example.label(), example.tensor(), cost});
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingSet> ExampleCollector::Finish() {
  TrainingSet set;
  RETURN_IF_ERROR(declared_status_);
  // A family that trains without TRAIN examples (an ensemble) takes its classes from any split.
  const bool trains = Takes(v1::TRAIN) && rules_.train_examples_required;
  if (declared_.empty()) {
    std::set<std::string> seen;
    for (const std::vector<Raw>* split : {&train_, &calibration_, &eval_}) {
      if (split != &train_ && rules_.train_examples_required) continue;
      for (const Raw& r : *split) {
        if (!r.label.empty()) seen.insert(r.label);
      }
    }
    set.classes.assign(seen.begin(), seen.end());
  } else {
    set.classes = declared_;
  }
  if (trains && train_.empty()) return absl::InvalidArgumentError("no training examples were sent");
  if (set.classes.empty() && !rules_.labels_required && rules_.classes_required) {
    return absl::InvalidArgumentError("name the classes (class_names): the examples carry no labels");
  }
  if (trains && set.classes.size() < 2 && rules_.labels_required) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training needs at least two classes; the examples have only \"", set.classes[0], "\""));
  }
  std::map<std::string, int, std::less<>> index;
  for (size_t i = 0; i < set.classes.size(); ++i) index[set.classes[i]] = static_cast<int>(i);
  std::vector<int64_t> counts(set.classes.size(), 0);
  for (Raw& r : train_) {
    const int label = r.label.empty() ? -1 : index.at(r.label);
    if (label >= 0) ++counts[label];
    if (rules_.tensors) {
      set.tensors.push_back(std::move(r.tensor));
    } else {
      set.texts.push_back(std::move(r.text));
    }
    set.labels.push_back(label);
  }
  for (size_t c = 0; c < counts.size() && trains && rules_.labels_required; ++c) {
    if (counts[c] == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("class \"", set.classes[c], "\" has no training examples"));
    }
  }
  auto move_split = [&](std::vector<Raw>& from, std::string_view what, std::vector<std::string>* texts,
                        std::vector<v1::Tensor>* tensors, std::vector<int>* labels) -> absl::Status {
    for (Raw& r : from) {
      auto it = index.find(r.label);
      if (it == index.end()) {
        return absl::InvalidArgumentError(absl::StrCat("an ", std::string(what), " example has label \"", r.label,
                                                       "\", which is not one of the classes"));
      }
      if (rules_.tensors) {
        tensors->push_back(std::move(r.tensor));
      } else {
        texts->push_back(std::move(r.text));
      }
      labels->push_back(it->second);
    }
    from.clear();
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(move_split(eval_, "evaluation", &set.eval_texts, &set.eval_tensors, &set.eval_labels));
  RETURN_IF_ERROR(move_split(calibration_, "calibration", &set.calibration_texts, &set.calibration_tensors,
                             &set.calibration_labels));
  train_.clear();
  return set;
}

absl::StatusOr<TrainingSet> ExampleCollector::TakeEval() {
  TrainingSet set;
  set.classes = declared_;
  for (Raw& r : eval_) {
    const auto it = std::find(declared_.begin(), declared_.end(), r.label);
    if (rules_.tensors) {
      set.eval_tensors.push_back(std::move(r.tensor));
    } else {
      set.eval_texts.push_back(std::move(r.text));
    }
    set.eval_labels.push_back(it == declared_.end() ? -1 : static_cast<int>(it - declared_.begin()));
    bytes_ -= r.cost;
  }
  eval_.clear();
  return set;
}

}  // namespace textclf
