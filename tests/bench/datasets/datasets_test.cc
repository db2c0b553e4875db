// The real data sets load with their documented sizes, and splits are stratified and repeatable.
// These tests fail rather than skip without the data: a missing folder is a broken setup.
#include "bench/datasets/datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/datasets/data_dir.h"

namespace textclf::data {
namespace {

class RealData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = DataDir();
    ASSERT_TRUE(std::filesystem::is_directory(dir_))
        << "data folder " << dir_ << " not found: set TEXTCLF_DATA to the shared data folder";
  }
  std::filesystem::path dir_;
};

int64_t CountLabel(const std::vector<int>& labels, int label) {
  return std::count(labels.begin(), labels.end(), label);
}

void ExpectNoneEmpty(const std::vector<std::string>& texts) {
  for (const std::string& text : texts) ASSERT_FALSE(text.empty());
}

TEST_F(RealData, ClickbaitHas32000HeadlinesOfWhich15999AreClickbait) {
  auto set = LoadClickbait(dir_);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->classes, (std::vector<std::string>{"news", "clickbait"}));
  EXPECT_EQ(set->texts.size(), 32000u);
  ASSERT_EQ(set->labels.size(), 32000u);
  EXPECT_EQ(CountLabel(set->labels, 1), 15999);
  EXPECT_EQ(set->texts[0], "Should I Get Bings");
  ExpectNoneEmpty(set->texts);
}

TEST_F(RealData, AgNewsHasFourClassesAndTheDocumentedSplits) {
  auto dataset = LoadAgNews(dir_);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->classes, (std::vector<std::string>{"World", "Sports", "Business", "Sci/Tech"}));
  EXPECT_EQ(dataset->train_texts.size(), 21456u);
  EXPECT_EQ(dataset->train_labels.size(), 21456u);
  EXPECT_EQ(dataset->test_texts.size(), 7600u);
  EXPECT_EQ(dataset->test_labels.size(), 7600u);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(CountLabel(dataset->test_labels, c), 1900) << c;
  // test.csv's first row: label 3, a title and a description.
  EXPECT_EQ(dataset->test_labels[0], 2);
  EXPECT_EQ(dataset->test_texts[0].rfind("Fears for T N pension after talks Unions", 0), 0u);
  // train.csv's second row has an empty title: no space may stand in for it.
  EXPECT_EQ(dataset->train_texts[1].rfind("Rising petrol prices", 0), 0u);
  ExpectNoneEmpty(dataset->train_texts);
  ExpectNoneEmpty(dataset->test_texts);
}

TEST_F(RealData, Dbpedia14HasFourteenClassesAndTheDocumentedSplits) {
  auto dataset = LoadDbpedia14(dir_);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ(dataset->classes.size(), 14u);
  EXPECT_EQ(dataset->classes.front(), "Company");
  EXPECT_EQ(dataset->classes.back(), "WrittenWork");
  EXPECT_EQ(dataset->train_texts.size(), 14188u);
  EXPECT_EQ(dataset->test_texts.size(), 4722u);
  EXPECT_EQ(dataset->test_labels.size(), 4722u);
  for (int c = 0; c < 14; ++c) EXPECT_GT(CountLabel(dataset->train_labels, c), 0) << c;
  ExpectNoneEmpty(dataset->train_texts);
  ExpectNoneEmpty(dataset->test_texts);
}

TEST_F(RealData, ClickbaitSplitsIntoAQuarterOfEachClass) {
  auto set = LoadClickbait(dir_);
  ASSERT_TRUE(set.ok()) << set.status();
  Dataset split = RandomSplit(*set, 0.25, 42);
  EXPECT_EQ(CountLabel(split.test_labels, 0), 4000);  // round(16001 / 4)
  EXPECT_EQ(CountLabel(split.test_labels, 1), 4000);  // round(15999 / 4)
  EXPECT_EQ(split.train_texts.size() + split.test_texts.size(), 32000u);
}

TEST(RandomSplit, IsStratifiedDeterministicAndKeepsInputOrder) {
  LabeledSet set;
  set.classes = {"a", "b"};
  for (int i = 0; i < 52; ++i) {
    set.texts.push_back(std::to_string(i));
    set.labels.push_back(i < 12 ? 0 : 1);
  }
  Dataset split = RandomSplit(set, 0.25, 7);
  EXPECT_EQ(split.classes, set.classes);
  EXPECT_EQ(CountLabel(split.test_labels, 0), 3);
  EXPECT_EQ(CountLabel(split.test_labels, 1), 10);
  EXPECT_EQ(split.train_texts.size(), 39u);
  auto as_number = [](const std::string& s) { return std::stoi(s); };
  std::vector<int> test_ids;
  for (const auto& t : split.test_texts) test_ids.push_back(as_number(t));
  EXPECT_TRUE(std::is_sorted(test_ids.begin(), test_ids.end()));
  for (size_t i = 0; i < split.test_texts.size(); ++i) {
    EXPECT_EQ(split.test_labels[i], test_ids[i] < 12 ? 0 : 1);
  }

  Dataset again = RandomSplit(set, 0.25, 7);
  EXPECT_EQ(again.test_texts, split.test_texts);
  EXPECT_EQ(again.train_texts, split.train_texts);
  Dataset other = RandomSplit(set, 0.25, 8);
  EXPECT_NE(other.test_texts, split.test_texts);
}

TEST(RandomSplit, ClampsTheTestFraction) {
  LabeledSet set{{"a"}, {"x", "y"}, {0, 0}};
  EXPECT_EQ(RandomSplit(set, 1.5, 1).test_texts.size(), 2u);
  EXPECT_EQ(RandomSplit(set, -1, 1).test_texts.size(), 0u);
}

}  // namespace
}  // namespace textclf::data
