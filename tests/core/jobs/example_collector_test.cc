#include "core/jobs/example_collector.h"

#include <gtest/gtest.h>

#include "core/common/thread_pool.h"
#include "core/jobs/training_job.h"
#include "core/model/names.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"
#include "tests/support/word_count_family.h"

namespace textclf {
namespace {

v1::ExampleBatch Batch(std::vector<std::pair<std::string, std::string>> examples, v1::Split split = v1::TRAIN) {
  v1::ExampleBatch batch;
  batch.set_split(split);
  for (auto& [text, label] : examples) {
    auto* e = batch.add_examples();
    e->set_text(text);
    e->set_label(label);
  }
  return batch;
}

TEST(ExampleCollector, SortsLabelsIntoClassesWhenNoneAreDeclared) {
  ExampleCollector builder({}, {});
  ASSERT_TRUE(builder.Add(Batch({{"a b", "z"}, {"c d", "y"}, {"e f", "z"}})).ok());
  ASSERT_TRUE(builder.Add(Batch({{"g h", "y"}}, v1::EVAL)).ok());
  auto set = builder.Finish();
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->classes, (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(set->labels, (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(set->eval_labels, (std::vector<int>{0}));
}

TEST(ExampleCollector, KeepsTheDeclaredClassOrder) {
  ExampleCollector builder({"z", "y"}, {});
  ASSERT_TRUE(builder.Add(Batch({{"a", "y"}, {"b", "z"}})).ok());
  auto set = builder.Finish();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->labels, (std::vector<int>{1, 0}));
}

TEST(ExampleCollector, EncodersTakeUnlabeledTextsWithoutClassNames) {
  ExampleCollector encoder({}, {}, ExampleRules{.tensors = false, .labels_required = false, .classes_required = false});
  ASSERT_TRUE(encoder.Add(Batch({{"some text", ""}, {"more text", ""}})).ok());
  auto set = encoder.Finish();
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->classes.empty());
  EXPECT_EQ(set->labels, (std::vector<int>{-1, -1}));

  // X-Class also reads unlabeled texts, but it cannot do without the class names.
  ExampleCollector xclass({}, {}, ExampleRules{.tensors = false, .labels_required = false, .classes_required = true});
  ASSERT_TRUE(xclass.Add(Batch({{"some text", ""}})).ok());
  EXPECT_NE(xclass.Finish().status().message().find("name the classes"), std::string_view::npos);
}

TEST(ExampleCollector, AnEnsembleTakesOnlyCalibrationExamplesAndClassesFromThem) {
  const ExampleRules ensemble{.tensors = false, .labels_required = true, .classes_required = false,
                              .train_examples_required = false};
  ExampleCollector builder({}, {}, ensemble);
  ASSERT_TRUE(builder.Add(Batch({{"a b", "z"}, {"c d", "y"}}, v1::CALIBRATION)).ok());
  ASSERT_TRUE(builder.Add(Batch({{"e f", "x"}}, v1::EVAL)).ok());
  auto set = builder.Finish();
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->texts.empty());
  EXPECT_EQ(set->classes, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(set->calibration_labels, (std::vector<int>{2, 1}));
  EXPECT_EQ(set->eval_labels, (std::vector<int>{0}));
  // Nothing at all is fine too (an averaged ensemble); a family that trains still needs examples.
  EXPECT_TRUE(ExampleCollector({}, {}, ensemble).Finish().ok());
  EXPECT_EQ(ExampleCollector({}, {}).Finish().status().message(), "no training examples were sent");
}

TEST(ExampleCollector, NamesTheExampleWithoutALabel) {
  ExampleCollector builder({}, {});
  absl::Status s = builder.Add(Batch({{"a", "x"}, {"b", ""}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("example 2 has no label"), std::string_view::npos);
}

TEST(ExampleCollector, RejectsEmptyTextsAndInvalidUtf8) {
  ExampleCollector builder({}, {});
  EXPECT_NE(builder.Add(Batch({{"", "x"}})).message().find("empty"), std::string_view::npos);
  EXPECT_NE(builder.Add(Batch({{"\xff", "x"}})).message().find("UTF-8"), std::string_view::npos);
}

TEST(ExampleCollector, RejectsLabelsOutsideTheDeclaredClasses) {
  ExampleCollector builder({"a", "b"}, {});
  absl::Status s = builder.Add(Batch({{"t", "c"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("\"c\""), std::string_view::npos);
}

TEST(ExampleCollector, RejectsOneClassAndEmptyClasses) {
  ExampleCollector one({}, {});
  ASSERT_TRUE(one.Add(Batch({{"t", "only"}})).ok());
  EXPECT_NE(one.Finish().status().message().find("at least two classes"), std::string_view::npos);
  ExampleCollector empty_class({"a", "b", "c"}, {});
  ASSERT_TRUE(empty_class.Add(Batch({{"t", "a"}, {"u", "b"}})).ok());
  auto s = empty_class.Finish();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("\"c\" has no training examples"), std::string_view::npos);
  ExampleCollector nothing({}, {});
  EXPECT_EQ(nothing.Finish().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExampleCollector, EnforcesTheDataLimit) {
  TrainingLimits limits;
  limits.max_total_bytes = 10;
  ExampleCollector builder({}, limits);
  EXPECT_EQ(builder.Add(Batch({{"0123456789ab", "x"}})).code(), absl::StatusCode::kResourceExhausted);
  TrainingLimits text_limit;
  text_limit.max_text_bytes = 3;
  ExampleCollector small({}, text_limit);
  EXPECT_EQ(small.Add(Batch({{"abcd", "x"}})).code(), absl::StatusCode::kInvalidArgument);
}

// max_train_bytes counts what examples cost in memory: 1-byte texts are not free.
TEST(ExampleCollector, CountsWhatExamplesCostInMemoryNotTheirPayload) {
  v1::Example tiny;
  tiny.set_text("a");
  tiny.set_label("x");
  EXPECT_GE(ExampleMemoryCost(tiny), 200);
  v1::Example big;
  big.set_text(std::string(10000, 'a'));
  big.set_label("x");
  EXPECT_GE(ExampleMemoryCost(big), 10000);
  EXPECT_LE(ExampleMemoryCost(big), 10000 + ExampleMemoryCost(tiny) + 64);
  TrainingLimits limits;
  limits.max_total_bytes = 100 * ExampleMemoryCost(tiny);
  ExampleCollector builder({}, limits);
  std::vector<std::pair<std::string, std::string>> hundred(100, {"a", "x"});
  ASSERT_TRUE(builder.Add(Batch(hundred)).ok());
  EXPECT_EQ(builder.bytes(), limits.max_total_bytes);
  absl::Status over = builder.Add(Batch({{"a", "x"}}));
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.message().find("max_train_bytes"), std::string_view::npos) << over;
}

// Uploads together stay within the server's budget, and give their bytes back when done.
TEST(ExampleCollector, ChargesTheServerWideUploadBudget) {
  v1::Example tiny;
  tiny.set_text("a");
  tiny.set_label("x");
  UploadBudget budget(10 * ExampleMemoryCost(tiny));
  {
    UploadBudget::Account first(&budget), second(&budget);
    ExampleCollector a({}, {}, {}, &first), b({}, {}, {}, &second);
    std::vector<std::pair<std::string, std::string>> six(6, {"a", "x"});
    ASSERT_TRUE(a.Add(Batch(six)).ok());
    absl::Status refused = b.Add(Batch(six));
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(refused.message().find("max_buffered_train_bytes"), std::string_view::npos) << refused;
    EXPECT_EQ(budget.used(), first.bytes() + second.bytes());
  }
  EXPECT_EQ(budget.used(), 0);
}

TEST(ExampleCollector, RejectsEvaluationLabelsNoTrainingExampleHas) {
  ExampleCollector builder({}, {});
  ASSERT_TRUE(builder.Add(Batch({{"a", "x"}, {"b", "y"}})).ok());
  ASSERT_TRUE(builder.Add(Batch({{"c", "w"}}, v1::EVAL)).ok());
  EXPECT_EQ(builder.Finish().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExampleCollector, RefusesUnboundedOrControlCharacterClassNamesBeforeKeepingAnything) {
  ExampleCollector huge({std::string(8 << 20, 'c'), "b"}, {});
  absl::Status s = huge.Add(Batch({{"t", "b"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("class name 1"), std::string_view::npos);
  EXPECT_LT(s.message().size(), 200u);
  EXPECT_EQ(huge.examples(), 0);
  ExampleCollector control({"a\nb", "c"}, {});
  EXPECT_EQ(control.Add(Batch({{"t", "c"}})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(control.Finish().status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> too_many;
  for (size_t i = 0; i <= kMaxClasses; ++i) too_many.push_back("c" + std::to_string(i));
  ExampleCollector many(too_many, {});
  EXPECT_NE(many.Add(Batch({{"t", "c1"}})).message().find("the limit is"), std::string_view::npos);
}

TEST(ExampleCollector, LabelsThatBecomeClassesFollowTheSameRule) {
  ExampleCollector builder({}, {});
  absl::Status long_label = builder.Add(Batch({{"t", std::string(kMaxClassNameBytes + 1, 'x')}}));
  EXPECT_EQ(long_label.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(long_label.message().find("the label of example 1"), std::string_view::npos);
  EXPECT_EQ(builder.Add(Batch({{"t", "tab\there"}})).code(), absl::StatusCode::kInvalidArgument);
  ExampleCollector many({}, {});
  for (size_t i = 0; i < kMaxClasses; ++i) ASSERT_TRUE(many.Add(Batch({{"t", "c" + std::to_string(i)}})).ok());
  EXPECT_TRUE(many.Add(Batch({{"t", "c0"}})).ok());  // a class already seen
  absl::Status beyond = many.Add(Batch({{"t", "one-more"}}));
  EXPECT_EQ(beyond.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(beyond.message().find("limit of 1000 classes"), std::string_view::npos);
}

// Quantize and Evaluate collect examples for an existing model: its classes, its inputs, the
// call's splits.
class ExamplesForAModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto corpus = testing::MakeTopicCorpus(2, 20, 1);
    TrainingSet data = testing::AsTrainingSet(corpus);
    registry::Repository repo(dir_.path() / "models");
    ASSERT_TRUE(repo.Initialize().ok());
    registry::ModelManager models(&repo, &testing::WordCountOnly(), v1::VersionPolicy());
    ThreadPool pool(1);
    CancellationToken cancel;
    v1::TrainStart start;
    start.set_model("m");
    start.set_family(testing::kWordCountFamilyId);
    start.set_skip_load(true);
    ASSERT_TRUE(RunTrainingJob(start, data, models, pool, cancel, [](auto, auto, auto) {}).ok());
    auto model = models.LoadDetached("m", 1);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
    classes_ = corpus.classes;
  }
  testing::TempDir dir_;
  std::shared_ptr<const Model> model_;
  std::vector<std::string> classes_;
};

TEST_F(ExamplesForAModelTest, QuantizeTakesOnlyItsSplitsAndTheModelsClasses) {
  ExampleCollector quantize =
      ExampleCollector::ForModel(*model_, ExampleRules{}, "Quantize", {v1::CALIBRATION, v1::EVAL}, {});
  EXPECT_TRUE(quantize.Add(Batch({{"alpha words", classes_[0]}}, v1::CALIBRATION)).ok());
  absl::Status train = quantize.Add(Batch({{"alpha words", classes_[0]}}, v1::TRAIN));
  EXPECT_EQ(train.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(train.message(), "example 2 is in the TRAIN split; Quantize takes CALIBRATION and EVAL examples");
  absl::Status unknown = quantize.Add(Batch({{"alpha words", "satire"}}, v1::EVAL));
  EXPECT_NE(unknown.message().find("example 2 has label \"satire\", which the model does not know; its classes are"),
            std::string_view::npos)
      << unknown;
  auto set = quantize.Finish();
  ASSERT_TRUE(set.ok()) << set.status() << ": no TRAIN examples are needed";
  EXPECT_EQ(set->calibration_texts.size(), 1u);
  EXPECT_EQ(set->classes, classes_);
}

TEST_F(ExamplesForAModelTest, EvaluateReadsNoSplitAndHandsOverABatchAtATime) {
  ExampleCollector evaluate = ExampleCollector::ForModel(*model_, ExampleRules{}, "Evaluate", {}, {});
  ASSERT_TRUE(evaluate.Add(Batch({{"one", classes_[1]}, {"two", classes_[0]}}, v1::TRAIN)).ok());
  auto first = evaluate.TakeEval();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->eval_texts, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(first->eval_labels, (std::vector<int>{1, 0}));
  EXPECT_EQ(evaluate.bytes(), 0) << "a batch handed over is no longer held";
  ASSERT_TRUE(evaluate.Add(Batch({{"three", classes_[0]}}, v1::CALIBRATION)).ok());
  EXPECT_EQ(evaluate.TakeEval()->eval_texts, std::vector<std::string>{"three"});
  EXPECT_EQ(evaluate.Add(Batch({{"", classes_[0]}})).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace textclf
