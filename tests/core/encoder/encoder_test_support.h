// Tiny random BERT encoders for tests: a vocabulary of a few dozen words, 2 layers, 32 hidden.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/encoder/encoder.h"

namespace textclf::encoder::testing {

// [PAD] [UNK] [CLS] [SEP] [MASK], punctuation, then `words` (and "##s").
std::string MakeVocab(const std::vector<std::string>& words);

// A fresh encoder over MakeVocab(words), seeded.
std::unique_ptr<Encoder> TinyEncoder(const std::vector<std::string>& words, uint64_t seed = 1, int layers = 2,
                                     int hidden = 32, int max_positions = 64);

}  // namespace textclf::encoder::testing
