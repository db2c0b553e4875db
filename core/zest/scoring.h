// Zest's arithmetic from compressed sizes to class scores, kept apart from zstd so it can be
// checked against hand-computed cases.
#pragma once

#include <cstddef>
#include <span>

namespace textclf::zest {

struct BinaryScore {
  double score = 0;     // neg_rate - pos_rate: positive means "looks like the positive class"
  double pos_rate = 1;
  double neg_rate = 1;
};

// The reference language-model form. Sizes include the frame header, which is subtracted;
// rates are relative to the text's compressed size without a dictionary. Texts shorter than
// 5 bytes score 0, as in the reference.
BinaryScore ScoreBinary(double pos_size, double neg_size, double raw_size, int header_size,
                        size_t text_bytes);

// The reference multi-class affinities: rate_c = (size_c - header) / text_bytes, affinity
// a_c = 1 - rate_c, normalised as (a_c - min) / (sum - n * min) when that sum exceeds 1e-3
// (left as they are otherwise). Writes the normalised affinities to `scores` and the raw
// affinities, the logits that probabilities are computed from, to `logits`.
void ScoreMulticlass(std::span<const float> class_sizes, int header_size, size_t text_bytes,
                     std::span<float> scores, std::span<float> logits);

}  // namespace textclf::zest
