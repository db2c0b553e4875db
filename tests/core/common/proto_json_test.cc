#include "core/common/proto_json.h"

#include <gtest/gtest.h>

#include "textclf/v1/cnn.pb.h"

namespace textclf {
namespace {

TEST(MergeFromJson, OverridesOnlyTheFieldsTheJsonSets) {
  v1::TextCnnConfig config;
  config.set_embedding_dim(64);
  config.mutable_training()->set_epochs(4);
  ASSERT_TRUE(MergeFromJson(R"({"featureMaps":200,"training":{"learningRate":0.001}})", &config, "--config").ok());
  EXPECT_EQ(config.embedding_dim(), 64);
  EXPECT_EQ(config.feature_maps(), 200);
  EXPECT_EQ(config.training().epochs(), 4);
  EXPECT_DOUBLE_EQ(config.training().learning_rate(), 0.001);
}

TEST(MergeFromJson, EmptyJsonChangesNothingAndUnknownFieldsAreNamed) {
  v1::TextCnnConfig config;
  config.set_embedding_dim(64);
  ASSERT_TRUE(MergeFromJson("", &config, "--config").ok());
  EXPECT_EQ(config.embedding_dim(), 64);
  absl::Status s = MergeFromJson(R"({"featureMapz":1})", &config, "--config");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--config"), std::string_view::npos) << s;
  EXPECT_EQ(config.embedding_dim(), 64) << "a refused merge leaves the message as it was";
}

}  // namespace
}  // namespace textclf
