#include "core/jobs/training_job.h"

#include <gtest/gtest.h>

#include "core/common/thread_pool.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/word_count_family.h"
#include "tests/support/test_support.h"

namespace textclf {
namespace {

class TrainingJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(repo_.Initialize().ok());
    policy_.set_latest(1);
  }
  testing::TempDir dir_;
  registry::Repository repo_{dir_.path() / "models"};
  v1::VersionPolicy policy_;
  registry::ModelManager models_{&repo_, &testing::WordCountOnly(), policy_};
  ThreadPool pool_{2};
  CancellationToken cancel_;
};

TEST_F(TrainingJobTest, PublishesLoadsAndEvaluates) {
  auto corpus = testing::MakeTopicCorpus(3, 200, 1);
  auto held_out = testing::MakeTopicCorpus(3, 30, 2);
  TrainingSet data = testing::AsTrainingSet(corpus);
  data.eval_texts = held_out.texts;
  data.eval_labels = held_out.labels;
  v1::TrainStart start;
  start.set_model("topics");
  start.set_family(testing::kWordCountFamilyId);
  start.set_eval_dataset("holdout");
  auto outcome = RunTrainingJob(start, data, models_, pool_, cancel_, [](auto, auto, auto) {});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->manifest.version(), 1);
  ASSERT_TRUE(outcome->eval.has_value());
  EXPECT_GE(outcome->eval->accuracy(), 0.9);
  EXPECT_EQ(outcome->eval->examples(), 90);
  EXPECT_TRUE(models_.Get("topics", 1).ok());
  EXPECT_EQ(repo_.ReadMetrics("topics", 1)->by_dataset().at("holdout").examples(), 90);
  EXPECT_EQ(outcome->manifest.training().train_examples(), 600);
}

TEST_F(TrainingJobTest, ACancelledJobLeavesNothing) {
  auto corpus = testing::MakeTopicCorpus(2, 100, 1);
  TrainingSet data = testing::AsTrainingSet(corpus);
  v1::TrainStart start;
  start.set_model("topics");
  start.set_family(testing::kWordCountFamilyId);
  cancel_.Cancel();
  auto outcome = RunTrainingJob(start, data, models_, pool_, cancel_, [](auto, auto, auto) {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(repo_.ListModels()->empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / "models" / ".staging"));
}

// Stands in for the serving runtime: scores through the model, counting what it was asked, or
// fails every request.
class RecordingObserver final : public ModelObserver {
 public:
  struct Scheduler final : VersionScheduler {
    Scheduler(std::shared_ptr<const Model> model, RecordingObserver* owner) : model(std::move(model)), owner(owner) {}
    absl::Status Score(std::span<const ModelInput> inputs, v1::Priority priority, std::function<bool()>,
                       ScoreMatrix* out) override {
      if (!owner->fail_with.ok()) return owner->fail_with;
      owner->scored += inputs.size();
      owner->all_bulk = owner->all_bulk && priority == v1::BULK;
      return model->Run(inputs, Device{}, out);
    }
    absl::Status Submit(std::span<const ModelInput> inputs, v1::Priority priority, ScoredFn done) override {
      ScoreMatrix out;
      absl::Status s = Score(inputs, priority, nullptr, &out);
      done(s, out);
      return absl::OkStatus();
    }
    std::shared_ptr<const Model> model;
    RecordingObserver* owner;
  };
  absl::StatusOr<std::shared_ptr<VersionScheduler>> OnLoaded(const std::shared_ptr<const Model>& model,
                                                             double) override {
    return std::make_shared<Scheduler>(model, this);
  }
  void OnUnloaded(const std::shared_ptr<const Model>&) override {}
  size_t scored = 0;
  bool all_bulk = true;
  absl::Status fail_with;
};

class ServedTrainingJobTest : public TrainingJobTest {
 protected:
  TrainingSet TopicsWithEval() {
    auto corpus = testing::MakeTopicCorpus(3, 100, 1);
    auto held_out = testing::MakeTopicCorpus(3, 20, 2);
    TrainingSet data = testing::AsTrainingSet(corpus);
    data.eval_texts = held_out.texts;
    data.eval_labels = held_out.labels;
    return data;
  }
  v1::TrainStart Start() {
    v1::TrainStart start;
    start.set_model("topics");
    start.set_family(testing::kWordCountFamilyId);
    return start;
  }
  RecordingObserver observer_;
  registry::ModelManager served_{&repo_, &testing::WordCountOnly(), policy_, &observer_};
};

TEST_F(ServedTrainingJobTest, EvaluatesThroughTheVersionsSchedulerAsBulkWork) {
  auto outcome = RunTrainingJob(Start(), TopicsWithEval(), served_, pool_, cancel_, [](auto, auto, auto) {});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->eval.has_value());
  EXPECT_EQ(outcome->eval->examples(), 60);
  EXPECT_EQ(observer_.scored, 60u) << "every EVAL example went through the scheduler";
  EXPECT_TRUE(observer_.all_bulk);
}

TEST_F(ServedTrainingJobTest, AJobThatFailsAfterPublishingTakesItsVersionBack) {
  ASSERT_TRUE(RunTrainingJob(Start(), TopicsWithEval(), served_, pool_, cancel_, [](auto, auto, auto) {}).ok());
  observer_.fail_with = absl::InternalError("the device fell off the bus");
  auto outcome = RunTrainingJob(Start(), TopicsWithEval(), served_, pool_, cancel_, [](auto, auto, auto) {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInternal) << outcome.status();
  EXPECT_EQ(*repo_.ListVersions("topics"), std::vector<int64_t>{1}) << "version 2 was published, then taken back";
  auto serving = served_.Get("topics", 0);
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_EQ((*serving)->version(), 1);
}

// A queue that serving traffic keeps full does not fail a job that already published.
TEST_F(ServedTrainingJobTest, ABusyQueueDoesNotFailTheEvaluation) {
  observer_.fail_with = absl::ResourceExhaustedError("the queue is full");
  auto outcome = RunTrainingJob(Start(), TopicsWithEval(), served_, pool_, cancel_, [](auto, auto, auto) {});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->eval->examples(), 60);
}

TEST_F(TrainingJobTest, AFamilyThisServerDoesNotKnowIsInvalid) {
  TrainingSet data;
  v1::TrainStart start;
  start.set_model("x");
  start.set_family(static_cast<v1::Family>(99));  // what a newer client might send
  auto outcome = RunTrainingJob(start, data, models_, pool_, cancel_, [](auto, auto, auto) {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status().message().find("unknown model family 99"), std::string_view::npos);
  EXPECT_TRUE(repo_.ListModels()->empty());
}

}  // namespace
}  // namespace textclf
