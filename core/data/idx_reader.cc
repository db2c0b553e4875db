#include "core/data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace textclf::data {
namespace {

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

// Reads up to `n` bytes; fewer only at the end of the data. -1 on a read error.
int64_t ReadUpTo(gzFile file, char* out, int64_t n) {
  int64_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(n - done, 1 << 20));
    const int got = gzread(file, out + done, chunk);
    if (got < 0) return -1;
    if (got == 0) break;
    done += got;
  }
  return done;
}

}  // namespace

int64_t IdxArray::item_size() const {
  int64_t size = 1;
  for (size_t i = 1; i < dims.size(); ++i) size *= dims[i];
  return size;
}

absl::StatusOr<IdxArray> ReadIdx(const std::filesystem::path& path, int64_t max_items, int64_t max_data_bytes) {
  // gzopen reads plain files as they are, so one path serves both.
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " is not an IDX file: ", what));
  };
  auto read_error = [&]() {
    int error = 0;
    std::string_view message = gzerror(file.get(), &error);
    if (message.starts_with(path.string() + ": ")) message.remove_prefix(path.string().size() + 2);  // zlib names it
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " cannot be read: ", std::string(message)));
  };

  unsigned char magic[4];
  const int64_t got = ReadUpTo(file.get(), reinterpret_cast<char*>(magic), 4);
  if (got < 0) return read_error();
  if (got < 4) return bad("too short");
  if (magic[0] != 0 || magic[1] != 0) return bad("bad magic number");
  if (magic[2] != 0x08) return bad(absl::StrCat("element type 0x", absl::Hex(magic[2]), " is not unsigned byte"));
  const int rank = magic[3];
  if (rank < 1) return bad("its header declares no dimensions");
  std::string header(4 * static_cast<size_t>(rank), '\0');
  const int64_t header_got = ReadUpTo(file.get(), header.data(), static_cast<int64_t>(header.size()));
  if (header_got < 0) return read_error();
  if (header_got < static_cast<int64_t>(header.size())) return bad("truncated header");

  // Up to 255 dimensions of 32 bits each: their products are checked, as they set what is read
  // (and every later item_size()).
  IdxArray array;
  for (int i = 0; i < rank; ++i) {
    const auto* d = reinterpret_cast<const unsigned char*>(header.data()) + 4 * i;
    array.dims.push_back((int64_t{d[0]} << 24) | (int64_t{d[1]} << 16) | (int64_t{d[2]} << 8) | d[3]);
  }
  int64_t item = 1, expected = 0;
  bool overflow = false;
  for (int i = 1; i < rank; ++i) overflow = overflow || __builtin_mul_overflow(item, array.dims[i], &item);
  overflow = overflow || __builtin_mul_overflow(array.dims[0], item, &expected);
  if (overflow || item > max_data_bytes || expected > max_data_bytes) {
    return bad(absl::StrCat("its dimensions hold more than ", max_data_bytes, " bytes"));
  }
  array.file_items = array.items();
  if (max_items > 0 && max_items < array.items()) array.dims[0] = max_items;

  // The kept items are read into memory as they arrive (a header is no promise of data); the
  // rest is only counted, up to one byte past the announced end.
  const int64_t kept = array.items() * array.item_size();
  int64_t found = 0;
  for (int64_t want; (want = std::min<int64_t>(kept - found, 1 << 20)) > 0;) {
    array.data.resize(static_cast<size_t>(found + want));
    const int64_t n = ReadUpTo(file.get(), array.data.data() + found, want);
    if (n < 0) return read_error();
    found += n;
    array.data.resize(static_cast<size_t>(found));
    if (n < want) break;
  }
  if (found == kept) {
    std::string scratch(1 << 16, '\0');
    for (;;) {
      const int64_t want = std::min<int64_t>(expected + 1 - found, static_cast<int64_t>(scratch.size()));
      const int64_t n = ReadUpTo(file.get(), scratch.data(), want);
      if (n < 0) return read_error();
      found += n;
      if (n < want || found > expected) break;
    }
  }
  if (found != expected) {
    return bad(absl::StrCat("expected ", expected, " data bytes, found ", found > expected ? "more" : absl::StrCat(found)));
  }
  return array;
}

}  // namespace textclf::data
