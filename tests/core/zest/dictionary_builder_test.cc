#include "core/zest/dictionary_builder.h"

#include <gtest/gtest.h>

#include "core/common/thread_pool.h"
#include "core/zest/zest_config.h"
#include "tests/support/synthetic_corpus.h"

namespace textclf::zest {
namespace {

v1::ZestConfig Resolved() { return *ResolveConfig(v1::ZestConfig(), 2); }

TEST(BinaryDictionarySizes, HalvesFromThePrimaryUpToSevenLevels) {
  // log2(120784 / 150) = 9.65 -> capped at 7.
  EXPECT_EQ(BinaryDictionarySizes(120784, 7, 256),
            (std::vector<size_t>{120784, 60392, 30196, 15098, 7549, 3774, 1887}));
}

TEST(BinaryDictionarySizes, CountsLevelsFromLog2AndFloorsAt256) {
  // log2(1000 / 150) = 2.7 -> 2 levels.
  EXPECT_EQ(BinaryDictionarySizes(1000, 7, 256), (std::vector<size_t>{1000, 500}));
  // log2(5000 / 150) = 5.06 -> 5 levels, the last two floored.
  EXPECT_EQ(BinaryDictionarySizes(5000, 7, 256), (std::vector<size_t>{5000, 2500, 1250, 625, 312}));
  EXPECT_EQ(BinaryDictionarySizes(100, 7, 256), (std::vector<size_t>{256}));
}

TEST(MulticlassDictionarySizes, SpacesSizesLinearlyFromHalfTheSmallestClass) {
  // min = 10000 / 2 = 5000, max = 40000, count = min(4, 1 + 35000 / 5000) = 4.
  std::vector<int64_t> compressed = {10000, 40000, 25000};
  EXPECT_EQ(MulticlassDictionarySizes(compressed, 4, 256, 1 << 15),
            (std::vector<size_t>{5000, 13750, 22500, 31250}));
}

TEST(MulticlassDictionarySizes, CapsTheSmallestClassAsTheReference) {
  // The smallest (100000) is capped at 32768 before halving: min 16384.
  std::vector<int64_t> compressed = {100000, 200000};
  auto sizes = MulticlassDictionarySizes(compressed, 4, 256, 1 << 15);
  ASSERT_EQ(sizes.size(), 4u);
  EXPECT_EQ(sizes[0], 16384u);
  EXPECT_EQ(sizes[1], 16384u + (200000 - 16384) / 4);
  // Without the cap, min = 50000 and count = 1 + 150000 / 50000 = 4.
  EXPECT_EQ(MulticlassDictionarySizes(compressed, 4, 256, -1)[0], 50000u);
}

TEST(MulticlassDictionarySizes, SpacesTwoSizesWhenClassesAreEqual) {
  // min = 500, max = 1000, count = min(4, 1 + 500 / 500) = 2.
  std::vector<int64_t> compressed = {1000, 1000};
  EXPECT_EQ(MulticlassDictionarySizes(compressed, 4, 256, 1 << 15), (std::vector<size_t>{500, 750}));
}

TEST(MeasureCompressedSize, BlocksCostSomeRatioButStayClose) {
  std::string corpus;
  auto c = testing::MakeTopicCorpus(4, 2000, 3);
  for (const auto& t : c.texts) corpus += t + "\n";
  ThreadPool pool(2);
  const int64_t whole = MeasureCompressedSize(corpus, 19, corpus.size(), &pool);
  const int64_t blocks = MeasureCompressedSize(corpus, 19, corpus.size() / 4 + 1, &pool);
  EXPECT_GT(whole, 0);
  EXPECT_GE(blocks, whole);
  EXPECT_LT(blocks, whole * 1.3);
  EXPECT_EQ(MeasureCompressedSize(corpus, 19, corpus.size() / 4 + 1, nullptr), blocks);
}

TEST(TrainDictionary, BuildsAZstdDictionaryOfAtMostTheAskedSize) {
  SampleSet samples;
  auto c = testing::MakeTopicCorpus(2, 2000, 5);
  for (const auto& t : c.texts) samples.Add(t);
  auto dict = TrainDictionary(samples, 4096, Resolved());
  ASSERT_TRUE(dict.ok()) << dict.status();
  EXPECT_FALSE(dict->raw_content);
  EXPECT_LE(dict->content.size(), 4096u);
  EXPECT_GT(dict->content.size(), 1000u);
  // zstd dictionaries start with their magic number.
  EXPECT_EQ(static_cast<unsigned char>(dict->content[0]), 0x37);
}

TEST(TrainDictionary, FallsBackToRawContentForTinyClasses) {
  SampleSet samples;
  samples.Add("just two");
  samples.Add("short samples");
  auto dict = TrainDictionary(samples, 4096, Resolved());
  ASSERT_TRUE(dict.ok());
  EXPECT_TRUE(dict->raw_content);
  EXPECT_EQ(dict->content, "just twoshort samples");
}

TEST(TrainDictionary, RejectsEmptySamples) {
  EXPECT_EQ(TrainDictionary(SampleSet(), 4096, Resolved()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace textclf::zest
