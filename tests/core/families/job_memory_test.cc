#include "core/families/job_memory.h"

#include <gtest/gtest.h>

namespace textclf {
namespace {

TEST(JobMemory, DefaultConfigsFitTheDefaultBudget) {
  const int64_t budget = int64_t{8} << 30;
  for (v1::Family family : {v1::ZEST, v1::TEXT_CNN, v1::IMAGE_CNN, v1::ENCODER_MLM, v1::XCLASS}) {
    EXPECT_TRUE(CheckJobMemory(family, v1::ModelConfig(), budget).ok()) << v1::Family_Name(family);
  }
  // The defaults are far from free: the estimate sees the TEXT_CNN's 50,000 x 128 embedding.
  EXPECT_GT(EstimateJobMemoryBytes(v1::TEXT_CNN, v1::ModelConfig()), 50000.0 * 128 * 4);
}

// batch x tokens x embedding: a config that could never fit is refused before anything runs.
TEST(JobMemory, AHugeTextCnnBatchIsRefusedNamingTheLimit) {
  v1::ModelConfig config;
  config.mutable_text_cnn()->set_max_tokens(10000);
  config.mutable_text_cnn()->set_embedding_dim(1024);
  config.mutable_text_cnn()->mutable_training()->set_batch_size(65536);
  const double bytes = EstimateJobMemoryBytes(v1::TEXT_CNN, config);
  EXPECT_GT(bytes, 65536.0 * 10000 * 1024 * 4);
  absl::Status s = CheckJobMemory(v1::TEXT_CNN, config, int64_t{8} << 30);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("max_job_memory_bytes"), std::string_view::npos) << s;
  EXPECT_TRUE(CheckJobMemory(v1::TEXT_CNN, config, 0).ok()) << "0: no limit";
}

TEST(JobMemory, GrowsWithTheEncodersSequenceLengthAndBatch) {
  v1::ModelConfig small, large;
  large.mutable_encoder()->set_max_length(512);
  large.mutable_encoder()->set_batch_size(4096);
  EXPECT_GT(EstimateJobMemoryBytes(v1::ENCODER_MLM, large), 100 * EstimateJobMemoryBytes(v1::ENCODER_MLM, small));
  // X-Class pretrains such an encoder when it names none.
  v1::ModelConfig xclass;
  *xclass.mutable_xclass()->mutable_pretrain_encoder() = large.encoder();
  EXPECT_EQ(EstimateJobMemoryBytes(v1::XCLASS, xclass), EstimateJobMemoryBytes(v1::ENCODER_MLM, large));
  xclass.mutable_xclass()->set_encoder_model("encoder");
  EXPECT_EQ(EstimateJobMemoryBytes(v1::XCLASS, xclass), 0);
}

}  // namespace
}  // namespace textclf
