#include "tests/support/fashion_mnist.h"

#include <gtest/gtest.h>

#include "core/data/idx_reader.h"

namespace textclf::testing {
namespace {

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist/";

}  // namespace

Images FashionSlice(const std::string& prefix, int64_t offset, int64_t count) {
  Images out;
  auto images = data::ReadIdx(std::string(kFashion) + prefix + "-images-idx3-ubyte.gz", offset + count);
  auto labels = data::ReadIdx(std::string(kFashion) + prefix + "-labels-idx1-ubyte.gz", offset + count);
  EXPECT_TRUE(images.ok() && labels.ok()) << "Fashion-MNIST is missing: install dataset-fashion-mnist";
  if (!images.ok() || !labels.ok()) return out;
  for (int64_t i = offset; i < offset + count; ++i) {
    v1::Tensor t;
    for (int d : {1, 28, 28}) t.add_shape(d);
    t.set_dtype(v1::UINT8);
    t.set_data(images->data.substr(static_cast<size_t>(i * 784), 784));
    out.tensors.push_back(std::move(t));
    out.labels.push_back("c" + std::to_string(static_cast<unsigned char>(labels->data[static_cast<size_t>(i)])));
  }
  return out;
}

std::vector<v1::ExampleBatch> TensorBatches(const Images& data, v1::Split split, size_t per_batch) {
  std::vector<v1::ExampleBatch> batches;
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    if (i % per_batch == 0) {
      batches.emplace_back();
      batches.back().set_split(split);
    }
    v1::Example* e = batches.back().add_examples();
    *e->mutable_tensor() = data.tensors[i];
    e->set_label(data.labels[i]);
  }
  return batches;
}

}  // namespace textclf::testing
