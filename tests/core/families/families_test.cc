#include "core/families/families.h"

#include <gtest/gtest.h>

#include <set>

#include "core/model/family_names.h"

namespace textclf {
namespace {

// The training-memory estimate of a built-in family (0 where it gives none).
double EstimateJobMemoryBytes(v1::Family family, const v1::ModelConfig& config) {
  const FamilyDescriptor* d = *FindFamily(family);
  return d->training_memory_bytes != nullptr ? d->training_memory_bytes(config) : 0;
}

absl::Status CheckJobMemory(v1::Family family, const v1::ModelConfig& config, int64_t limit) {
  return CheckTrainingMemory(**FindFamily(family), config, limit);
}

TEST(Families, EveryFamilyOfTheProtoIsBuiltInWithItsOwnNameAndConfig) {
  std::set<int> config_cases;
  const auto* e = v1::Family_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    const auto id = static_cast<v1::Family>(e->value(i)->number());
    if (id == v1::FAMILY_UNSPECIFIED) continue;
    auto family = BuiltInFamilies().Find(id);
    ASSERT_TRUE(family.ok()) << family.status();
    EXPECT_EQ((*family)->name, FamilyName(id)) << "the CLI's names follow the proto";
    EXPECT_TRUE(config_cases.insert((*family)->config_case).second) << (*family)->name;
    EXPECT_NE((*family)->load, nullptr);
    EXPECT_NE((*family)->train, nullptr);
  }
  EXPECT_EQ(BuiltInFamilies().Find(v1::FAMILY_UNSPECIFIED).status().message(), "the model family is not set");
  EXPECT_NE(BuiltInFamilies().Find(static_cast<v1::Family>(99)).status().message().find("zest, xclass"),
            std::string_view::npos);
}

// What the trainers count on: IMAGE_CNN takes tensors, XCLASS and ENCODER_MLM take unlabeled
// texts, ENCODER_MLM needs no class names; only the CNNs quantize; tensor models prefer a GPU.
TEST(Families, DescribeTheirExamplesServingAndQuantization) {
  EXPECT_TRUE((*FindFamily(v1::IMAGE_CNN))->examples.tensors);
  EXPECT_FALSE((*FindFamily(v1::TEXT_CNN))->examples.tensors);
  EXPECT_FALSE((*FindFamily(v1::XCLASS))->examples.labels_required);
  EXPECT_TRUE((*FindFamily(v1::XCLASS))->examples.classes_required);
  EXPECT_FALSE((*FindFamily(v1::ENCODER_MLM))->examples.classes_required);
  EXPECT_TRUE((*FindFamily(v1::ZEST))->examples.labels_required);
  for (v1::Family f : {v1::ZEST, v1::XCLASS, v1::ENCODER_MLM}) EXPECT_EQ((*FindFamily(f))->quantize, nullptr);
  for (v1::Family f : {v1::TEXT_CNN, v1::IMAGE_CNN}) EXPECT_NE((*FindFamily(f))->quantize, nullptr);
  EXPECT_FALSE((*FindFamily(v1::ZEST))->serving.prefers_gpu);
  EXPECT_EQ((*FindFamily(v1::ZEST))->serving.max_batch_size, 256);
  EXPECT_TRUE((*FindFamily(v1::IMAGE_CNN))->serving.prefers_gpu);
  EXPECT_EQ((*FindFamily(v1::TEXT_CNN))->serving.max_batch_size, 64);
  // Only an ensemble is built on other versions, and only it trains without TRAIN examples.
  for (const FamilyDescriptor* f : BuiltInFamilies().all()) {
    const bool ensemble = f->id == v1::ENSEMBLE;
    EXPECT_EQ(f->dependencies != nullptr, ensemble) << f->name;
    EXPECT_EQ(f->load_with_dependencies != nullptr, ensemble) << f->name;
    EXPECT_EQ(f->examples.train_examples_required, !ensemble) << f->name;
  }
  EXPECT_GT((*FindFamily(v1::ENSEMBLE))->serving.cpu_instances, 1) << "its instances only wait for the members";
}

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
