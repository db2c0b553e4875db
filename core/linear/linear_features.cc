#include "core/linear/linear_features.h"

#include <algorithm>
#include <cmath>

#include "core/text/word_hash.h"
#include "core/text/word_normalizer.h"

namespace textclf::linear {
namespace {

// splitmix64's finaliser: combines two hashes into a third that neither predicts.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Distinct streams for the three kinds of feature, so that a word and a bigram never share a
// slot by construction.
constexpr uint64_t kBigramSalt = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kCharSalt = 0xD1B54A32D192ED03ull;

}  // namespace

void ExtractFeatures(std::string_view text, const v1::LinearConfig& config, FeatureScratch* scratch,
                     std::vector<Feature>* out) {
  text::NormalizeWords(text, &scratch->normalized);
  std::vector<uint64_t>& hashes = scratch->hashes;
  hashes.clear();
  const std::string& s = scratch->normalized;
  uint64_t previous = 0;
  bool has_previous = false;
  for (size_t at = 0; at < s.size();) {
    while (at < s.size() && s[at] == ' ') ++at;
    const size_t start = at;
    while (at < s.size() && s[at] != ' ') ++at;
    if (at == start) break;
    const std::string_view word(s.data() + start, at - start);
    const uint64_t h = text::StableHash64(word);
    hashes.push_back(h);
    if (config.word_bigrams() && has_previous) hashes.push_back(Mix(previous * 31 + h + kBigramSalt));
    previous = h;
    has_previous = true;
    if (config.char_ngram_max() >= 3) {
      // "<word>" with boundary marks, n-grams of 3..max bytes (UTF-8 sequences may split: the
      // hash does not care, and the same text always splits the same way).
      std::string& marked = scratch->marked;
      marked.assign("<").append(word).append(">");
      for (int n = 3; n <= config.char_ngram_max(); ++n) {
        for (size_t i = 0; i + static_cast<size_t>(n) <= marked.size(); ++i) {
          hashes.push_back(Mix(text::StableHash64(std::string_view(marked).substr(i, n)) ^ kCharSalt));
        }
      }
    }
  }
  const uint64_t mask = (uint64_t{1} << config.hash_bits()) - 1;
  for (uint64_t& h : hashes) h &= mask;
  std::sort(hashes.begin(), hashes.end());
  out->clear();
  double norm = 0;
  for (size_t i = 0; i < hashes.size();) {
    size_t j = i;
    while (j < hashes.size() && hashes[j] == hashes[i]) ++j;
    const float value = 1.0f + std::log(static_cast<float>(j - i));
    out->push_back({static_cast<uint32_t>(hashes[i]), value});
    norm += static_cast<double>(value) * value;
    i = j;
  }
  if (norm > 0) {
    const float scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (Feature& f : *out) f.value *= scale;
  }
}

}  // namespace textclf::linear
