// Golden cases for the uncased BERT tokenizer, worked out by hand from the algorithm (and, on the
// real bert-base-uncased vocabulary, the reference tokenizer's well-known outputs).
#include "core/encoder/bert_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "core/common/files.h"
#include "bench/datasets/data_dir.h"

namespace textclf::encoder {
namespace {

using ::testing::ElementsAre;

const char kVocab[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\nhello\n,\nworld\n!\ncafe\nnaive\n中\n的\nrun\n##ning\nb\n##b\n"
    "a\n$\n;\n";

BertTokenizer Small() {
  auto t = BertTokenizer::Create(kVocab);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

TEST(BertTokenizer, SplitsAWordIntoLongestMatchingPieces) {
  EXPECT_THAT(Small().TokenizeToStrings("unaffable"), ElementsAre("un", "##aff", "##able"));
}

TEST(BertTokenizer, LowerCasesAndSplitsPunctuation) {
  EXPECT_THAT(Small().TokenizeToStrings("Hello, WORLD!"), ElementsAre("hello", ",", "world", "!"));
}

TEST(BertTokenizer, StripsPrecomposedAndCombiningAccents) {
  EXPECT_THAT(Small().TokenizeToStrings("Café NAÏVE"), ElementsAre("cafe", "naive"));
  EXPECT_THAT(Small().TokenizeToStrings("Cafe\xCC\x81"), ElementsAre("cafe"));  // e + U+0301
}

TEST(BertTokenizer, MakesEveryCjkCharacterAWord) {
  EXPECT_THAT(Small().TokenizeToStrings("run中的running"), ElementsAre("run", "中", "的", "run", "##ning"));
}

TEST(BertTokenizer, WordsOverOneHundredCharactersAreUnknown) {
  const std::string hundred(100, 'b');
  const auto pieces = Small().TokenizeToStrings(hundred);
  ASSERT_EQ(pieces.size(), 100u);
  EXPECT_EQ(pieces[0], "b");
  EXPECT_EQ(pieces[99], "##b");
  EXPECT_THAT(Small().TokenizeToStrings(std::string(101, 'b')), ElementsAre("[UNK]"));
}

TEST(BertTokenizer, AWordWithAnUncoveredPartIsOneUnknown) {
  // "run" matches but "##x" does not: the whole word becomes [UNK], the next word is unaffected.
  EXPECT_THAT(Small().TokenizeToStrings("runx hello"), ElementsAre("[UNK]", "hello"));
}

TEST(BertTokenizer, CleansControlsAndTreatsUnicodeSpacesAsWhitespace) {
  // NUL and U+200B (format) vanish without splitting; NBSP and tab separate words.
  EXPECT_THAT(Small().BasicTokenize(std::string("hel\0lo\xE2\x80\x8B\tworld\xC2\xA0" "a", 18)),
              ElementsAre("hello", "world", "a"));
}

TEST(BertTokenizer, AsciiSymbolsAndUnicodePunctuationSplitWords) {
  EXPECT_THAT(Small().BasicTokenize("a$b"), ElementsAre("a", "$", "b"));
  EXPECT_THAT(Small().BasicTokenize("a\xE2\x80\x94" "b"), ElementsAre("a", "\xE2\x80\x94", "b"));  // em dash
  // U+037E GREEK QUESTION MARK decomposes to ';', which is then split off.
  EXPECT_THAT(Small().BasicTokenize("a\xCD\xBE" "b"), ElementsAre("a", ";", "b"));
}

TEST(BertTokenizer, MapsPiecesToTheirWords) {
  const WordPieces w = Small().Tokenize("hello unaffable!");
  EXPECT_THAT(w.words, ElementsAre("hello", "unaffable", "!"));
  EXPECT_THAT(w.word_of_piece, ElementsAre(0, 1, 1, 1, 2));
}

TEST(BertTokenizer, RejectsAVocabularyWithoutSpecialTokens) {
  auto t = BertTokenizer::Create("hello\nworld\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), ::testing::HasSubstr("[PAD]"));
}

TEST(BertTokenizer, MatchesTheReferenceOnTheRealVocabulary) {
  auto vocab = ReadFile(data::DataDir() / "vocab" / "bert-base-uncased-vocab.txt");
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  auto t = BertTokenizer::Create(*vocab);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->vocab_size(), 30522);
  EXPECT_EQ(t->Id("[PAD]"), 0);
  EXPECT_EQ(t->Id("[CLS]"), 101);
  EXPECT_EQ(t->Id("[SEP]"), 102);
  EXPECT_EQ(t->Id("[MASK]"), 103);
  EXPECT_EQ(absl::StrJoin(t->TokenizeToStrings("unaffable"), " "), "una ##ffa ##ble");
  EXPECT_EQ(absl::StrJoin(t->TokenizeToStrings("Hello, how are you?"), " "), "hello , how are you ?");
  EXPECT_EQ(absl::StrJoin(t->TokenizeToStrings("I don't like Café."), " "), "i don ' t like cafe .");
}

}  // namespace
}  // namespace textclf::encoder
