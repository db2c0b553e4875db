// The LINEAR family's features: a text, normalized as Zest normalizes it (lower-cased,
// punctuation that clings to words dropped), becomes a sparse row of hashed word unigrams, word
// bigrams and optionally character n-grams inside words, with sublinear term frequencies
// (1 + log tf) and unit L2 norm. Hashing is StableHash64, fixed forever: models store weights by
// hashed slot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "textclf/v1/model.pb.h"

namespace textclf::linear {

struct Feature {
  uint32_t index;
  float value;
};

// What extraction reuses from text to text, so that scoring allocates nothing per text once warm.
struct FeatureScratch {
  std::string normalized;
  std::string marked;  // a word with boundary marks, for character n-grams
  std::vector<uint64_t> hashes;
};

// The sparse row of `text` under `config` (resolved), sorted by index, into *out (replaced).
void ExtractFeatures(std::string_view text, const v1::LinearConfig& config, FeatureScratch* scratch,
                     std::vector<Feature>* out);

}  // namespace textclf::linear
