// Image tensors as IMAGE_CNN models take them: shape [channels, height, width] (or [height, width]
// for one channel), dtype UINT8 (0..255) or FLOAT32 (0..1), raw little-endian bytes; normalised
// with the model's stored per-channel mean and std. No libtorch here.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "textclf/v1/cnn.pb.h"
#include "textclf/v1/inputs.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

struct ImageGeometry {
  int64_t channels = 0, height = 0, width = 0;
  int64_t numel() const { return channels * height * width; }
};

// The geometry a tensor declares; INVALID_ARGUMENT when its shape, dtype or byte count is not a
// valid image.
absl::StatusOr<ImageGeometry> GeometryOf(const v1::Tensor& tensor);

// Checks a tensor against the model's geometry; the message says what to send instead.
absl::Status ValidateImage(const v1::Tensor& tensor, const v1::ImageCnnConfig& config);

// Writes the normalised image (channels x height x width floats) to `out`. The tensor must have
// passed ValidateImage.
void NormaliseImage(const v1::Tensor& tensor, const v1::ImageCnnConfig& config, float* out);

// The value of element i scaled to [0, 1] (uint8 / 255, float32 as it is).
float PixelValue(const v1::Tensor& tensor, int64_t i);

}  // namespace textclf::cnn
