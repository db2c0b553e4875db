#include "core/cnn/image_input.h"

#include <cmath>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace textclf::cnn {

absl::StatusOr<ImageGeometry> GeometryOf(const v1::Tensor& tensor) {
  ImageGeometry g;
  if (tensor.shape_size() == 3) {
    g = {tensor.shape(0), tensor.shape(1), tensor.shape(2)};
  } else if (tensor.shape_size() == 2) {
    g = {1, tensor.shape(0), tensor.shape(1)};
  } else {
    return absl::InvalidArgumentError(absl::StrCat("the tensor has shape [", absl::StrJoin(tensor.shape(), ", "),
                                                   "]; images are [channels, height, width] or [height, width]"));
  }
  if (g.channels < 1 || g.height < 1 || g.width < 1 || g.channels > 64 || g.height > 4096 || g.width > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("the tensor has shape [", absl::StrJoin(tensor.shape(), ", "),
                                                   "]; sizes must be positive (at most 64 channels, 4096 pixels)"));
  }
  size_t element = 0;
  if (tensor.dtype() == v1::UINT8) element = 1;
  if (tensor.dtype() == v1::FLOAT32) element = 4;
  if (element == 0) {
    return absl::InvalidArgumentError("the tensor's dtype is not set or not supported; use UINT8 (0..255) or FLOAT32 (0..1)");
  }
  const uint64_t expected = static_cast<uint64_t>(g.numel()) * element;
  if (tensor.data().size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("the tensor has ", tensor.data().size(), " bytes of data; shape [",
                                                   absl::StrJoin(tensor.shape(), ", "), "] of ",
                                                   element == 1 ? "UINT8" : "FLOAT32", " needs ", expected));
  }
  return g;
}

absl::Status ValidateImage(const v1::Tensor& tensor, const v1::ImageCnnConfig& config) {
  auto g = GeometryOf(tensor);
  if (!g.ok()) return g.status();
  if (g->channels != config.channels() || g->height != config.height() || g->width != config.width()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the image is ", g->channels, "x", g->height, "x", g->width, " (channels x height x width); this model takes ",
        config.channels(), "x", config.height(), "x", config.width(), ": resize it first"));
  }
  if (tensor.dtype() == v1::FLOAT32) {
    const float* values = reinterpret_cast<const float*>(tensor.data().data());
    for (int64_t i = 0; i < g->numel(); ++i) {
      float v;
      std::memcpy(&v, values + i, sizeof v);
      if (!std::isfinite(v)) return absl::InvalidArgumentError(absl::StrCat("element ", i, " of the image is not finite"));
    }
  }
  return absl::OkStatus();
}

float PixelValue(const v1::Tensor& tensor, int64_t i) {
  const char* data = tensor.data().data();
  if (tensor.dtype() == v1::UINT8) return static_cast<float>(static_cast<uint8_t>(data[i])) / 255.f;
  float v;
  std::memcpy(&v, data + i * 4, sizeof v);
  return v;
}

void NormaliseImage(const v1::Tensor& tensor, const v1::ImageCnnConfig& config, float* out) {
  const int64_t plane = int64_t{config.height()} * config.width();
  for (int64_t c = 0; c < config.channels(); ++c) {
    const float mean = config.mean(static_cast<int>(c));
    const float inv_std = 1.f / config.std(static_cast<int>(c));
    for (int64_t i = c * plane; i < (c + 1) * plane; ++i) out[i] = (PixelValue(tensor, i) - mean) * inv_std;
  }
}

}  // namespace textclf::cnn
