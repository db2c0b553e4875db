#include "tests/core/cnn/synthetic_images.h"

#include <random>

namespace textclf::testing {

v1::Tensor SyntheticImage(int label, int size, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + static_cast<uint64_t>(label));
  std::uniform_int_distribution<int> noise(0, 90);
  v1::Tensor t;
  t.add_shape(1);
  t.add_shape(size);
  t.add_shape(size);
  t.set_dtype(v1::UINT8);
  std::string data(static_cast<size_t>(size * size), '\0');
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      // Class 0: top half bright; 1: bottom half; 2: left half; 3: right half.
      const bool bright = (label == 0 && y < size / 2) || (label == 1 && y >= size / 2) ||
                          (label == 2 && x < size / 2) || (label == 3 && x >= size / 2);
      data[static_cast<size_t>(y * size + x)] = static_cast<char>((bright ? 150 : 0) + noise(rng));
    }
  }
  t.set_data(std::move(data));
  return t;
}

TrainingSet SyntheticImageSet(int classes, int per_class, int size, uint64_t seed, int calibration_per_class) {
  TrainingSet set;
  for (int c = 0; c < classes; ++c) set.classes.push_back("c" + std::to_string(c));
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < classes; ++c) {
      set.tensors.push_back(SyntheticImage(c, size, seed + static_cast<uint64_t>(i) * 31));
      set.labels.push_back(c);
    }
  }
  for (int i = 0; i < calibration_per_class; ++i) {
    for (int c = 0; c < classes; ++c) {
      set.calibration_tensors.push_back(SyntheticImage(c, size, seed + 100000 + static_cast<uint64_t>(i) * 31));
      set.calibration_labels.push_back(c);
    }
  }
  return set;
}

}  // namespace textclf::testing
