#include "tests/support/synthetic_corpus.h"

#include <gtest/gtest.h>

#include <random>

namespace textclf::testing {
namespace {

const std::vector<std::vector<std::string>> kTopics = {
    {"goal", "striker", "referee", "league", "match", "keeper", "penalty", "stadium", "coach", "season"},
    {"oven", "recipe", "garlic", "simmer", "butter", "flour", "sauce", "bake", "pepper", "onion"},
    {"server", "kernel", "compiler", "database", "network", "memory", "thread", "cache", "packet", "binary"},
    {"senate", "election", "minister", "vote", "policy", "parliament", "treaty", "campaign", "law", "cabinet"},
};
const std::vector<std::string> kClassNames = {"sports", "cooking", "computing", "politics"};
const std::vector<std::string> kFiller = {"the", "a", "with", "and", "after", "new", "big", "today", "was", "of"};

}  // namespace

SyntheticCorpus MakeTopicCorpus(int num_classes, int per_class, uint64_t seed) {
  std::mt19937_64 rng(seed);
  SyntheticCorpus corpus;
  for (int c = 0; c < num_classes; ++c) corpus.classes.push_back(kClassNames[c]);
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < num_classes; ++c) {
      std::string text;
      const int words = 8 + static_cast<int>(rng() % 6);
      for (int w = 0; w < words; ++w) {
        const auto& pool = (rng() % 3 == 0) ? kFiller : kTopics[c];
        if (!text.empty()) text += ' ';
        text += pool[rng() % pool.size()];
      }
      text[0] = static_cast<char>(text[0] - 'a' + 'A');
      corpus.texts.push_back(text + ".");
      corpus.labels.push_back(c);
    }
  }
  return corpus;
}

double HeldOutAccuracy(const Model& model, const SyntheticCorpus& held_out, ThreadPool* pool) {
  std::vector<ModelInput> inputs;
  for (const auto& t : held_out.texts) inputs.push_back(ModelInput{t, nullptr});
  ScoreMatrix out;
  EXPECT_TRUE(model.Run(inputs, Device{Device::Kind::kCpu, 0, pool}, &out).ok());
  int correct = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    correct += static_cast<int>(out.Argmax(i)) == held_out.labels[i];
    float sum = 0;
    for (size_t c = 0; c < out.cols; ++c) sum += out.probability_row(i)[c];
    EXPECT_NEAR(sum, 1.0, 1e-4);
  }
  return static_cast<double>(correct) / inputs.size();
}

TrainingSet AsTrainingSet(const SyntheticCorpus& corpus) {
  TrainingSet data;
  data.classes = corpus.classes;
  data.texts = corpus.texts;
  data.labels = corpus.labels;
  return data;
}

}  // namespace textclf::testing
