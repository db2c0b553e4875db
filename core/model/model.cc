#include "core/model/model.h"

namespace textclf {

size_t ScoreMatrix::Argmax(size_t i) const {
  const float* row = score_row(i);
  size_t best = 0;
  for (size_t c = 1; c < cols; ++c) {
    if (row[c] > row[best]) best = c;
  }
  return best;
}

int Model::ClassIndex(std::string_view label) const {
  for (int i = 0; i < manifest_.classes_size(); ++i) {
    if (manifest_.classes(i) == label) return i;
  }
  return -1;
}

}  // namespace textclf
