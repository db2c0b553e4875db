// A family is one folder plus one line in a table: the tests' word-count family
// (tests/support/word_count_family.*), unknown to server/, is trained, served, evaluated, listed
// and deleted through the real gRPC server once the table handed to it lists the family.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/families/families.h"
#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"
#include "tests/support/word_count_family.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

// The built-in families and the word-count family: the one line a new family adds.
const FamilyTable& BuiltInsAndWordCount() {
  static const FamilyTable table = [] {
    std::vector<const FamilyDescriptor*> families = BuiltInFamilies().all();
    families.push_back(WordCountFamily());
    return FamilyTable(std::move(families));
  }();
  return table;
}

class TestFamilyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServeOptions options;
    options.families = &BuiltInsAndWordCount();
    server_ = TestServer::Start(TestConfig(root_.path()), options);
    ASSERT_NE(server_, nullptr);
  }

  v1::TrainStart WordCountStart(const std::string& name) {
    v1::TrainStart start;
    start.set_model(name);
    start.set_family(kWordCountFamilyId);
    return start;
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(TestFamilyTest, TheServerTrainsServesAndEvaluatesAFamilyItWasOnlyHanded) {
  const ClickbaitSplit& data = Clickbait();
  TrainCall trained = Train(server_->stub(), WordCountStart("words"), ClickbaitSlice(500), ClickbaitTestSlice(100));
  ASSERT_TRUE(trained.status.ok()) << Describe(trained.status);
  EXPECT_EQ(trained.result.version(), 1);
  ASSERT_TRUE(trained.result.has_eval_metrics());
  // Naive Bayes over words separates clickbait from news well (a coin would score 0.5).
  EXPECT_GT(trained.result.eval_metrics().accuracy(), 0.8);
  std::vector<std::string> stages;
  for (const auto& p : trained.progress) stages.push_back(p.stage());
  EXPECT_THAT(stages, ::testing::Contains("count")) << "the family's own progress reaches the client";

  ClassifyCall classified = Classify(server_->stub(), "words", {data.test.texts[0], data.test.texts[1]});
  ASSERT_TRUE(classified.status.ok()) << Describe(classified.status);
  ASSERT_EQ(classified.response.predictions_size(), 2);
  EXPECT_EQ(classified.response.version(), 1);

  EvaluateCall evaluated = Evaluate(server_->stub(), "words", 0, "held-out", ClickbaitTestSlice(100, 100));
  ASSERT_TRUE(evaluated.status.ok()) << Describe(evaluated.status);
  EXPECT_EQ(evaluated.response.metrics().examples(), 200);
  EXPECT_GT(evaluated.response.metrics().accuracy(), 0.8);

  auto info = GetModel(server_->stub(), "words");
  ASSERT_TRUE(info.status.ok());
  EXPECT_EQ(info.response.family(), kWordCountFamilyId);
  ASSERT_TRUE(DeleteModel(server_->stub(), "words", 0).status.ok());
  EXPECT_EQ(Classify(server_->stub(), "words", {"x"}).status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(TestFamilyTest, ItsRulesAndLimitsComeFromItsDescriptor) {
  // No config message of its own: a config for another family is refused naming this one.
  v1::TrainStart start = WordCountStart("words");
  start.mutable_config()->mutable_zest();
  TrainCall wrong_config = Train(server_->stub(), start, ClickbaitSlice(20));
  EXPECT_EQ(wrong_config.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(wrong_config.status.error_message(), HasSubstr("another family than word_count"));
  // Labels required (the descriptor's example rules).
  Labeled unlabeled;
  unlabeled.Add("some words", "");
  unlabeled.Add("other words", "");
  TrainCall no_labels = Train(server_->stub(), WordCountStart("words"), unlabeled);
  EXPECT_EQ(no_labels.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_labels.status.error_message(), HasSubstr("has no label"));
  // Not quantizable: Quantize names the families that are.
  ASSERT_TRUE(Train(server_->stub(), WordCountStart("words"), ClickbaitSlice(50)).status.ok());
  grpc::ClientContext context;
  auto stream = server_->stub().Quantize(&context);
  v1::QuantizeRequest request;
  request.mutable_start()->set_model("words");
  request.mutable_start()->add_weight_bits(8);
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  v1::QuantizeResponse response;
  while (stream->Read(&response)) {
  }
  grpc::Status quantized = stream->Finish();
  EXPECT_EQ(quantized.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(quantized.error_message(), HasSubstr("quantizable families (text_cnn, image_cnn); words is a word_count model"));
}

TEST_F(TestFamilyTest, AServerNotHandedTheFamilyRefusesIt) {
  auto plain = TestServer::Start(root_.path() / "plain");
  ASSERT_NE(plain, nullptr);
  TrainCall refused = Train(plain->stub(), WordCountStart("words"), ClickbaitSlice(20));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("unknown model family 1001"));
}

}  // namespace
}  // namespace textclf::testing
