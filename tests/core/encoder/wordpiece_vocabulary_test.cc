// The vocabulary learned when no vocab.txt is given: what it keeps whole, how it covers words it
// did not keep, its size bound and its determinism.
#include "core/encoder/wordpiece_vocabulary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoder/bert_tokenizer.h"

namespace textclf::encoder {
namespace {

using ::testing::Contains;
using ::testing::Not;

std::vector<std::string> Corpus() {
  std::vector<std::string> texts;
  for (int i = 0; i < 30; ++i) {
    texts.push_back("The striker scored a late goal; the match ended 2-1.");
    texts.push_back("Bake the bread in a hot oven, then let it cool.");
    texts.push_back(i % 3 ? "Markets rallied as investors bought shares." : "Café owners reopened after the storm.");
  }
  texts.push_back("A hapax legomenon appears once.");
  return texts;
}

TEST(WordPieceVocabulary, KeepsSpecialTokensCharactersAndFrequentWords) {
  const std::vector<std::string> texts = Corpus();
  auto tokenizer = BertTokenizer::Create(LearnWordPieceVocabulary(texts, 400));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  for (const char* word : {"striker", "goal", "oven", "bread", "investors", "cafe", "."}) {
    EXPECT_GE(tokenizer->Id(word), 0) << word;
  }
  // Seen once: not a word of the vocabulary, but its characters cover it without [UNK].
  EXPECT_EQ(tokenizer->Id("legomenon"), -1);
  const WordPieces pieces = tokenizer->Tokenize("legomenon strikers");
  EXPECT_THAT(pieces.ids, Not(Contains(tokenizer->unk_id())));
  EXPECT_THAT(tokenizer->TokenizeToStrings("strikers"), ::testing::ElementsAre("striker", "##s"));
}

TEST(WordPieceVocabulary, StaysWithinItsSizeAndIsTheSameForTheSameTexts) {
  const std::vector<std::string> texts = Corpus();
  const std::string vocab = LearnWordPieceVocabulary(texts, 40);
  auto tokenizer = BertTokenizer::Create(vocab);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer->vocab_size(), 40);
  EXPECT_EQ(LearnWordPieceVocabulary(texts, 40), vocab);
  // Even with room for nothing but the special tokens the file is a usable vocabulary.
  auto minimal = BertTokenizer::Create(LearnWordPieceVocabulary(texts, 0));
  ASSERT_TRUE(minimal.ok()) << minimal.status();
  EXPECT_EQ(minimal->vocab_size(), 5);
}

TEST(WordPieceVocabulary, SplitsRareWordsIntoLearnedPiecesRatherThanCharacters) {
  std::vector<std::string> texts;
  // Many different words sharing a start and an ending, each too rare to be kept whole.
  for (const char* stem : {"alpha", "bravo", "delta", "gamma", "kilo", "lima", "oscar", "sierra", "tango"}) {
    texts.push_back(std::string("pre") + stem + "ization");
  }
  auto tokenizer = BertTokenizer::Create(LearnWordPieceVocabulary(texts, 200));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer->Id("prealphaization"), -1) << "seen once";
  EXPECT_GE(tokenizer->Id("##ization"), 0);
  const std::vector<std::string> pieces = tokenizer->TokenizeToStrings("prealphaization");
  EXPECT_EQ(pieces.front(), "pre");
  EXPECT_THAT(pieces.back(), ::testing::EndsWith("ization")) << "a learned ending, not characters";
  EXPECT_LT(pieces.size(), std::string("prealphaization").size() / 2) << ::testing::PrintToString(pieces);
}

}  // namespace
}  // namespace textclf::encoder
