#include "core/zest/compressor_bank.h"

#include <gtest/gtest.h>

#include "core/zest/dictionary_builder.h"
#include "core/zest/zest_config.h"
#include "tests/support/synthetic_corpus.h"

namespace textclf::zest {
namespace {

// One dictionary per topic, trained on that topic's sentences.
std::vector<std::vector<std::string>> TopicDictionaries(const testing::SyntheticCorpus& corpus, size_t size) {
  std::vector<SampleSet> samples(corpus.classes.size());
  for (size_t i = 0; i < corpus.texts.size(); ++i) samples[corpus.labels[i]].Add(corpus.texts[i]);
  v1::ZestConfig config = *ResolveConfig(v1::ZestConfig(), 2);
  std::vector<std::vector<std::string>> dicts;
  for (auto& s : samples) dicts.push_back({TrainDictionary(s, size, config)->content});
  return dicts;
}

TEST(CompressorBank, HeaderSizeIsThatOfAnEmptyFrame) {
  auto corpus = testing::MakeTopicCorpus(2, 500, 1);
  auto bank = CompressorBank::Create(TopicDictionaries(corpus, 2048), 19);
  ASSERT_TRUE(bank.ok()) << bank.status();
  // Magic (4) + frame header descriptor (1) + window descriptor (1) + empty last block (3):
  // no content size, checksum or dictionary id.
  EXPECT_EQ((*bank)->header_size(), 9);
  std::vector<std::string> texts = {""};
  std::vector<float> sizes(2), raw(1);
  (*bank)->Measure(texts, sizes, raw);
  EXPECT_EQ(sizes[0], 9);
  EXPECT_EQ(sizes[1], 9);
}

TEST(CompressorBank, ATextCompressesBestWithItsOwnClassDictionary) {
  auto corpus = testing::MakeTopicCorpus(2, 500, 1);
  auto bank = CompressorBank::Create(TopicDictionaries(corpus, 2048), 19);
  ASSERT_TRUE(bank.ok());
  auto held_out = testing::MakeTopicCorpus(2, 20, 99);
  std::vector<float> sizes(held_out.texts.size() * 2), raw(held_out.texts.size());
  (*bank)->Measure(held_out.texts, sizes, raw);
  for (size_t i = 0; i < held_out.texts.size(); ++i) {
    const int own = held_out.labels[i];
    EXPECT_LT(sizes[i * 2 + own], sizes[i * 2 + 1 - own]) << held_out.texts[i];
    EXPECT_LT(sizes[i * 2 + own], raw[i]) << held_out.texts[i];
  }
}

TEST(CompressorBank, SizesDoNotDependOnHowTheBatchIsCut) {
  auto corpus = testing::MakeTopicCorpus(3, 300, 2);
  auto dicts = TopicDictionaries(corpus, 1024);
  dicts[1].push_back(dicts[0][0]);  // a class with two dictionaries averages them
  auto bank = CompressorBank::Create(dicts, 22);
  ASSERT_TRUE(bank.ok());
  std::vector<std::string> texts(corpus.texts.begin(), corpus.texts.begin() + 30);
  std::vector<float> all(30 * 3), raw_all(30);
  (*bank)->Measure(texts, all, raw_all);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<float> one(3), raw_one(1);
    (*bank)->Measure(std::span<const std::string>(&texts[i], 1), one, raw_one);
    EXPECT_EQ(one[0], all[i * 3]);
    EXPECT_EQ(one[1], all[i * 3 + 1]);
    EXPECT_EQ(one[2], all[i * 3 + 2]);
    EXPECT_EQ(raw_one[0], raw_all[i]);
  }
}

TEST(CompressorBank, RejectsAClassWithoutDictionaries) {
  EXPECT_FALSE(CompressorBank::Create({{"abc"}, {}}, 3).ok());
}

}  // namespace
}  // namespace textclf::zest
