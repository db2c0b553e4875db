// Small labelled images that a ResNet-8 learns in a few seconds: each class has its own bright
// region, plus noise; deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/training.h"
#include "textclf/v1/service.pb.h"

namespace textclf::testing {

// A uint8 [1, size, size] image of class `label` (0..3).
v1::Tensor SyntheticImage(int label, int size, uint64_t seed);

// `per_class` images of each of `classes` classes (classes "c0", "c1", ...) as a training set:
// TRAIN, plus CALIBRATION when `calibration_per_class` > 0.
TrainingSet SyntheticImageSet(int classes, int per_class, int size, uint64_t seed, int calibration_per_class = 0);

}  // namespace textclf::testing
