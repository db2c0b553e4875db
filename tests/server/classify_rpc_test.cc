// Classify through the real server: the shape of answers, and every refused request with its
// exact status code, a message saying what to fix, and nothing stored changing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/util/json_util.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kMaxTextBytes = 100;

class ClassifyRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // "good" and "idle", trained on texts of at most kMaxTextBytes, "idle" published unloaded.
    ASSERT_TRUE(CopyFixtureModels(kZestGoodAndIdle, root_.path()));
    server_ = TestServer::Start(root_.path(), [](v1::ServerConfig& c) {
      c.mutable_limits()->set_max_text_bytes(kMaxTextBytes);
      c.mutable_limits()->set_max_texts_per_request(16);
    });
    ASSERT_NE(server_, nullptr);
    // A server starting loads the latest version of every model: "idle" too, until unloaded.
    ASSERT_TRUE(UnloadModel(server_->stub(), "idle", 0).status.ok());
    before_ = Snapshot();
  }

  std::string Snapshot() {
    auto list = ListModels(server_->stub());
    EXPECT_TRUE(list.status.ok()) << Describe(list.status);
    std::string out = list.response.DebugString();
    for (const auto& [path, content] : ReadTree(root_.path())) out += "\n" + path;
    return out;
  }

  void ExpectRefused(const ClassifyCall& call, grpc::StatusCode code, const std::string& substring) {
    EXPECT_EQ(call.status.error_code(), code) << Describe(call.status);
    EXPECT_THAT(call.status.error_message(), HasSubstr(substring));
    EXPECT_EQ(call.response.predictions_size(), 0);
    EXPECT_EQ(Snapshot(), before_) << "a refused Classify changed what is stored";
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
  std::string before_;
};

TEST_F(ClassifyRpcTest, AnswersEveryTextInRequestOrder) {
  const std::vector<std::string> texts = {"This Cat Will Make Your Day Better", "Stocks fall as oil prices rise",
                                          "21 Photos That Prove Dogs Are The Best", "Parliament votes on new trade deal"};
  ClassifyCall call = Classify(server_->stub(), "good", texts);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  ASSERT_EQ(call.response.predictions_size(), 4);
  EXPECT_EQ(call.response.model(), "good");
  EXPECT_EQ(call.response.version(), 1);
  EXPECT_FALSE(call.response.request_id().empty());
  for (size_t i = 0; i < texts.size(); ++i) {
    ClassifyCall alone = Classify(server_->stub(), "good", {texts[i]});
    ASSERT_TRUE(alone.status.ok());
    EXPECT_EQ(alone.response.predictions(0).label(), call.response.predictions(i).label()) << texts[i];
    EXPECT_EQ(alone.response.predictions(0).score(), call.response.predictions(i).score()) << texts[i];
  }
}

// What grpcurl and other JSON clients send: plain JSON strings in text_strings (protobuf's JSON
// mapping), answered as the same texts in bytes are.
TEST_F(ClassifyRpcTest, JsonClientsSendPlainStrings) {
  v1::ClassifyRequest request;
  const std::string json =
      R"({"model": "good", "textStrings": ["21 Photos That Prove Dogs Are The Best", "Café owners reopen"]})";
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok());
  ClassifyCall strings = Classify(server_->stub(), request);
  ASSERT_TRUE(strings.status.ok()) << Describe(strings.status);
  ClassifyCall bytes = Classify(server_->stub(), "good", {"21 Photos That Prove Dogs Are The Best", "Café owners reopen"});
  ASSERT_TRUE(bytes.status.ok()) << Describe(bytes.status);
  ASSERT_EQ(strings.response.predictions_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(strings.response.predictions(i).label(), bytes.response.predictions(i).label());
    EXPECT_EQ(strings.response.predictions(i).score(), bytes.response.predictions(i).score());
  }
  // In `texts` the same JSON string is base64 to protobuf: "Y2Fm" is "caf", not the text sent.
  v1::ClassifyRequest base64;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"model": "good", "texts": ["Y2Fm"]})", &base64).ok());
  EXPECT_EQ(base64.texts(0), "caf");
}

TEST_F(ClassifyRpcTest, ListsAtMostTheModelsClassesForALargeTopK) {
  v1::ClassifyRequest request;
  request.set_model("good");
  request.add_texts("What Happened Next Will Shock You");
  request.set_top_k(10);
  ClassifyCall call = Classify(server_->stub(), request);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  EXPECT_EQ(call.response.predictions(0).top_size(), 2);
}

TEST_F(ClassifyRpcTest, GivesEachRequestItsOwnId) {
  ClassifyCall a = Classify(server_->stub(), "good", {"one headline"});
  ClassifyCall b = Classify(server_->stub(), "good", {"one headline"});
  ASSERT_TRUE(a.status.ok() && b.status.ok());
  EXPECT_NE(a.response.request_id(), b.response.request_id());
}

TEST_F(ClassifyRpcTest, AcceptsATextOfExactlyTheLimit) {
  ClassifyCall call = Classify(server_->stub(), "good", {std::string(kMaxTextBytes, 'a')});
  EXPECT_TRUE(call.status.ok()) << Describe(call.status);
}

TEST_F(ClassifyRpcTest, RejectsAnEmptyBatch) {
  ExpectRefused(Classify(server_->stub(), "good", {}), grpc::StatusCode::INVALID_ARGUMENT, "no texts");
}

TEST_F(ClassifyRpcTest, RejectsAnEmptyTextNamingItsPosition) {
  ExpectRefused(Classify(server_->stub(), "good", {"fine", ""}), grpc::StatusCode::INVALID_ARGUMENT,
                "texts[1] is empty");
}

TEST_F(ClassifyRpcTest, RejectsATextOverTheSizeLimit) {
  ClassifyCall call = Classify(server_->stub(), "good", {std::string(kMaxTextBytes + 1, 'a')});
  ExpectRefused(call, grpc::StatusCode::INVALID_ARGUMENT, "texts[0] has 101 bytes; the limit is 100");
  EXPECT_THAT(call.status.error_message(), HasSubstr("max_text_bytes"));
}

TEST_F(ClassifyRpcTest, RejectsInvalidUtf8) {
  ExpectRefused(Classify(server_->stub(), "good", {"ok", "\xff\xfe"}), grpc::StatusCode::INVALID_ARGUMENT,
                "texts[1] is not valid UTF-8");
}

TEST_F(ClassifyRpcTest, RejectsMoreTextsThanTheLimit) {
  ExpectRefused(Classify(server_->stub(), "good", std::vector<std::string>(17, "a headline")),
                grpc::StatusCode::INVALID_ARGUMENT, "split it into smaller requests");
}

TEST_F(ClassifyRpcTest, RejectsAMissingModelName) {
  ExpectRefused(Classify(server_->stub(), "", {"a headline"}), grpc::StatusCode::INVALID_ARGUMENT,
                "model is empty");
}

TEST_F(ClassifyRpcTest, RejectsANegativeVersionOrTopK) {
  ExpectRefused(Classify(server_->stub(), "good", {"a headline"}, -1), grpc::StatusCode::INVALID_ARGUMENT,
                "version must be positive");
  v1::ClassifyRequest request;
  request.set_model("good");
  request.add_texts("a headline");
  request.set_top_k(-2);
  ExpectRefused(Classify(server_->stub(), request), grpc::StatusCode::INVALID_ARGUMENT, "top_k");
}

TEST_F(ClassifyRpcTest, AnswersNotFoundForAnUnknownModel) {
  ExpectRefused(Classify(server_->stub(), "nosuch", {"a headline"}), grpc::StatusCode::NOT_FOUND,
                "no model named \"nosuch\"");
}

TEST_F(ClassifyRpcTest, AnswersNotFoundForAnUnknownVersion) {
  ExpectRefused(Classify(server_->stub(), "good", {"a headline"}, 7), grpc::StatusCode::NOT_FOUND,
                "has no version 7");
}

TEST_F(ClassifyRpcTest, AnswersFailedPreconditionForAModelWithNoLoadedVersion) {
  ExpectRefused(Classify(server_->stub(), "idle", {"a headline"}), grpc::StatusCode::FAILED_PRECONDITION,
                "load it with LoadModel");
  ExpectRefused(Classify(server_->stub(), "idle", {"a headline"}, 1), grpc::StatusCode::FAILED_PRECONDITION,
                "version 1 is not loaded");
}

TEST_F(ClassifyRpcTest, RejectsAnInvalidModelName) {
  ExpectRefused(Classify(server_->stub(), "../good", {"a headline"}), grpc::StatusCode::INVALID_ARGUMENT,
                "invalid model name");
}

}  // namespace
}  // namespace textclf::testing
