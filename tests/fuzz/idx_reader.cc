// Fuzzes the IDX reader through its real path (zlib's gzopen, plain or gzip): the input is
// written to a memory file and read by name, keeping up to (size % 3) items (0: all).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/data/idx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz-idx", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  auto array = textclf::data::ReadIdx(path, static_cast<int64_t>(size % 3), int64_t{16} << 20);
  if (!array.ok()) return 0;
  if (static_cast<int64_t>(array->data.size()) != array->items() * array->item_size()) __builtin_trap();
  return 0;
}
