// Small labelled corpora with distinct vocabularies per class, for tests that need a model
// that can be trained in milliseconds and must classify held-out texts correctly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/model/training.h"

namespace textclf {
class ThreadPool;
}

namespace textclf::testing {

struct SyntheticCorpus {
  std::vector<std::string> classes;
  std::vector<std::string> texts;
  std::vector<int> labels;
};

// `per_class` sentences for each of `num_classes` topics (at most 4), built from each topic's
// own words plus shared filler words, deterministic for a seed.
SyntheticCorpus MakeTopicCorpus(int num_classes, int per_class, uint64_t seed);

// The corpus as a trainer takes it: every text a TRAIN example.
TrainingSet AsTrainingSet(const SyntheticCorpus& corpus);

// The share of `held_out` that `model` (run on the CPU with `pool`) labels right; records a
// gtest failure when a run fails or a row's probabilities do not sum to 1.
double HeldOutAccuracy(const Model& model, const SyntheticCorpus& held_out, ThreadPool* pool);

}  // namespace textclf::testing
