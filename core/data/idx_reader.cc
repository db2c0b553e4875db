#include "core/data/idx_reader.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace textclf::data {

int64_t IdxArray::item_size() const {
  int64_t size = 1;
  for (size_t i = 1; i < dims.size(); ++i) size *= dims[i];
  return size;
}

absl::StatusOr<IdxArray> ReadIdx(const std::filesystem::path& path, int64_t max_items) {
  // gzopen reads plain files as they are, so one path serves both.
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::string content;
  char buffer[1 << 16];
  for (int n; (n = gzread(file, buffer, sizeof buffer)) > 0;) content.append(buffer, static_cast<size_t>(n));
  int error = 0;
  const char* message = gzerror(file, &error);
  gzclose(file);
  if (error != Z_OK && error != Z_STREAM_END) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", message));
  }
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " is not an IDX file: ", what));
  };
  if (content.size() < 4) return bad("too short");
  const auto* bytes = reinterpret_cast<const unsigned char*>(content.data());
  if (bytes[0] != 0 || bytes[1] != 0) return bad("bad magic number");
  if (bytes[2] != 0x08) return bad(absl::StrCat("element type 0x", absl::Hex(bytes[2]), " is not unsigned byte"));
  const int rank = bytes[3];
  if (rank < 1 || content.size() < 4 + 4 * static_cast<size_t>(rank)) return bad("truncated header");
  IdxArray array;
  for (int i = 0; i < rank; ++i) {
    const unsigned char* d = bytes + 4 + 4 * i;
    array.dims.push_back((int64_t{d[0]} << 24) | (int64_t{d[1]} << 16) | (int64_t{d[2]} << 8) | d[3]);
  }
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  const int64_t expected = array.items() * array.item_size();
  if (static_cast<int64_t>(content.size() - header) != expected) {
    return bad(absl::StrCat("expected ", expected, " data bytes, found ", content.size() - header));
  }
  if (max_items > 0 && max_items < array.items()) array.dims[0] = max_items;
  array.data = content.substr(header, static_cast<size_t>(array.items() * array.item_size()));
  return array;
}

}  // namespace textclf::data
