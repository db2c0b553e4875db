#include "core/xclass/static_representations.h"

#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

TEST(StaticRepresentations, AveragesOccurrencesAndTheirDocuments) {
  StaticRepresentationBuilder builder(2);
  // Document 1: "goal" (1,0), "team" (0,1); its mean is (0.5, 0.5).
  const std::vector<std::string> first = {"goal", "team"};
  builder.Add(first, std::vector<float>{1, 0, 0, 1});
  // Document 2: "goal" (3,0), "goal" (1,0), "vote" (2,6); its mean is (2, 2).
  const std::vector<std::string> second = {"goal", "goal", "vote"};
  builder.Add(second, std::vector<float>{3, 0, 1, 0, 2, 6});

  const StaticVocabulary vocab = builder.Finish(/*min_count=*/2);
  ASSERT_EQ(vocab.size(), 1u) << "team and vote occur once";
  EXPECT_EQ(vocab.words[0], "goal");
  EXPECT_EQ(vocab.counts[0], 3);
  EXPECT_FLOAT_EQ(vocab.vectors(0, 0), 5.f / 3);
  EXPECT_FLOAT_EQ(vocab.vectors(0, 1), 0.f);
  // Occurrence-weighted: once in document 1, twice in document 2.
  EXPECT_FLOAT_EQ(vocab.document_vectors(0, 0), (0.5f + 2 * 2.f) / 3);
  EXPECT_FLOAT_EQ(vocab.document_vectors(0, 1), (0.5f + 2 * 2.f) / 3);

  const StaticVocabulary all = builder.Finish(1);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.words[0], "goal") << "most frequent first";
  EXPECT_EQ(all.Find("vote"), 2) << "ties by word";
  EXPECT_FLOAT_EQ(all.document_vectors(all.Find("team"), 1), 0.5f);
  EXPECT_EQ(all.Find("cooking"), -1);
}

TEST(StaticRepresentations, EmptyDocumentsAddNothing) {
  StaticRepresentationBuilder builder(3);
  builder.Add({}, {});
  EXPECT_EQ(builder.Finish(1).size(), 0u);
}

}  // namespace
}  // namespace textclf::xclass
