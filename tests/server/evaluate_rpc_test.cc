// Evaluate through the real server: metrics recorded under the dataset name, and refused streams
// that record nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class EvaluateRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestGood, root_.path()));
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
    held_out_ = ClickbaitTestSlice(100);
    ASSERT_EQ(held_out_.size(), 200u);
  }

  std::vector<std::string> RecordedDatasets() {
    auto info = GetModel(server_->stub(), "good");
    EXPECT_TRUE(info.status.ok()) << Describe(info.status);
    std::vector<std::string> out;
    if (info.response.versions_size() == 0) return out;
    for (const auto& [name, m] : info.response.versions(0).metrics()) out.push_back(name);
    return out;
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
  Labeled held_out_;
};

TEST_F(EvaluateRpcTest, RecordsTheMetricsUnderTheDatasetName) {
  EvaluateCall call = Evaluate(server_->stub(), "good", 1, "held-out", held_out_, /*batch_size=*/64);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  const v1::EvalMetrics& m = call.response.metrics();
  EXPECT_EQ(call.response.version(), 1);
  EXPECT_EQ(m.examples(), 200);
  EXPECT_EQ(m.dataset(), "held-out");
  EXPECT_GT(m.accuracy(), 0.6);  // 300 training examples: far better than chance
  EXPECT_TRUE(m.has_auc());
  EXPECT_EQ(m.per_class_size(), 2);
  int64_t total = 0;
  for (int64_t c : m.confusion()) total += c;
  EXPECT_EQ(total, 200);
  auto info = GetModel(server_->stub(), "good");
  ASSERT_TRUE(info.status.ok());
  ASSERT_TRUE(info.response.versions(0).metrics().contains("held-out"));
  EXPECT_EQ(info.response.versions(0).metrics().at("held-out").examples(), 200);
  EXPECT_EQ(info.response.versions(0).metrics().at("held-out").accuracy(), m.accuracy());
}

TEST_F(EvaluateRpcTest, RecordsUnderEvalWhenNoDatasetIsNamed) {
  EvaluateCall call = Evaluate(server_->stub(), "good", 0, "", held_out_);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  EXPECT_EQ(call.response.metrics().dataset(), "eval");
  EXPECT_THAT(RecordedDatasets(), UnorderedElementsAre("eval"));
}

TEST_F(EvaluateRpcTest, RejectsAnUnknownLabelAndRecordsNothing) {
  Labeled data = held_out_;
  data.labels[150] = "satire";
  EvaluateCall call = Evaluate(server_->stub(), "good", 0, "bad", data, /*batch_size=*/100);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
  EXPECT_THAT(call.status.error_message(), HasSubstr("example 151 has label \"satire\", which the model does not know"));
  EXPECT_THAT(call.status.error_message(), HasSubstr("clickbait, news"));
  EXPECT_TRUE(RecordedDatasets().empty());
}

TEST_F(EvaluateRpcTest, RejectsAStreamWithoutExamplesAndRecordsNothing) {
  EvaluateCall call = Evaluate(server_->stub(), "good", 0, "empty", Labeled{});
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
  EXPECT_THAT(call.status.error_message(), HasSubstr("no examples were sent"));
  EXPECT_TRUE(RecordedDatasets().empty());
}

TEST_F(EvaluateRpcTest, RejectsAnEmptyText) {
  Labeled data = held_out_;
  data.texts[3].clear();
  EvaluateCall call = Evaluate(server_->stub(), "good", 0, "bad", data);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
  EXPECT_THAT(call.status.error_message(), HasSubstr("example 4 is empty"));
  EXPECT_TRUE(RecordedDatasets().empty());
}

TEST_F(EvaluateRpcTest, RejectsInvalidUtf8) {
  Labeled data = held_out_;
  data.texts[150] = "\xff\xfe";  // in the second batch
  EvaluateCall call = Evaluate(server_->stub(), "good", 0, "bad", data, /*batch_size=*/100);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
  EXPECT_THAT(call.status.error_message(), HasSubstr("example 151 is not valid UTF-8"));
  EXPECT_TRUE(RecordedDatasets().empty());
}

TEST_F(EvaluateRpcTest, AnswersNotFoundForAnUnknownModelOrVersion) {
  EvaluateCall model = Evaluate(server_->stub(), "nosuch", 0, "x", held_out_);
  EXPECT_EQ(model.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(model.status);
  EXPECT_THAT(model.status.error_message(), HasSubstr("nosuch"));
  EvaluateCall version = Evaluate(server_->stub(), "good", 9, "x", held_out_);
  EXPECT_EQ(version.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(version.status);
  EXPECT_THAT(version.status.error_message(), HasSubstr("has no version 9"));
  EXPECT_TRUE(RecordedDatasets().empty());
}

TEST_F(EvaluateRpcTest, RejectsAStreamThatDoesNotStartWithEvaluateStart) {
  grpc::ClientContext context;
  v1::EvaluateResponse response;
  auto writer = server_->stub().Evaluate(&context, &response);
  v1::EvaluateRequest request;
  v1::Example* e = request.mutable_batch()->add_examples();
  e->set_text("a headline");
  e->set_label("news");
  writer->Write(request);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("first message must be an EvaluateStart"));
}

}  // namespace
}  // namespace textclf::testing
