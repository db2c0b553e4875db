// Fashion-MNIST images (the Debian package dataset-fashion-mnist) as the uint8 [1, 28, 28]
// tensors a client sends, for the tests of the image CNN: what they train on, calibrate and
// evaluate with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "textclf/v1/service.pb.h"

namespace textclf::testing {

struct Images {
  std::vector<v1::Tensor> tensors;
  std::vector<std::string> labels;  // "c0" ... "c9"
};

// Images [offset, offset + count) of the file pair `prefix` ("train" or "t10k"); records a
// gtest failure (and answers none) when the data set is not installed.
Images FashionSlice(const std::string& prefix, int64_t offset, int64_t count);

// `data` as example batches of `split`, at most `per_batch` examples each.
std::vector<v1::ExampleBatch> TensorBatches(const Images& data, v1::Split split, size_t per_batch = 500);

}  // namespace textclf::testing
