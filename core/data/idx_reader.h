// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed: a magic number with the
// element type and rank, big-endian dimensions, then the data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::data {

struct IdxArray {
  std::vector<int64_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
  std::string data;           // unsigned bytes, row-major
  int64_t file_items = 0;     // items in the file: dims[0] before max_items cut it

  int64_t items() const { return dims.empty() ? 0 : dims[0]; }
  int64_t item_size() const;  // bytes per item
};

// Files whose header announces more data than this are refused before any of it is read.
inline constexpr int64_t kMaxIdxDataBytes = int64_t{1} << 34;

// Only unsigned-byte IDX files (type 0x08), the type of (Fashion-)MNIST. At most `max_items`
// items are kept (0: all); the rest is read only to check that the file is complete. The header's
// dimensions set how many bytes are read, so a short header over a huge (or endless gzip) stream
// costs no memory.
absl::StatusOr<IdxArray> ReadIdx(const std::filesystem::path& path, int64_t max_items = 0,
                                 int64_t max_data_bytes = kMaxIdxDataBytes);

}  // namespace textclf::data
