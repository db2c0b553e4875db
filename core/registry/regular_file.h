// Reading the files of a model version, which whoever can write the repository may have replaced
// by anything: a path in the manifest must stay inside the version folder, and only a regular
// file is opened, without following symbolic links and without ever blocking on a FIFO or a
// device, so that a hostile folder fails its version instead of hanging the server.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace textclf::registry {

// A manifest's file path: relative, '/'-separated, without empty, "." or ".." components, so
// that it names a file beneath the version folder and nothing else.
absl::Status ValidateManifestPath(std::string_view path);

class RegularFile {
 public:
  // Opens `relative` (a path ValidateManifestPath accepts) beneath `dir`; no component may be a
  // symbolic link, and the file must be a regular one. NOT_FOUND when it is missing,
  // FAILED_PRECONDITION when it is something else.
  static absl::StatusOr<RegularFile> OpenBeneath(const std::filesystem::path& dir, std::string_view relative);

  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  // The size when opened: check it against what is expected before reading.
  uint64_t size() const { return size_; }
  // Reads size() bytes; DATA_LOSS if the file is shorter or longer by then.
  absl::StatusOr<std::string> Read() const;

 private:
  RegularFile(int fd, uint64_t size, std::string name) : fd_(fd), size_(size), name_(std::move(name)) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string name_;  // for messages
};

// Opens `name` in `dir` as above and reads it if it has at most `max_bytes`.
absl::StatusOr<std::string> ReadSmallRegularFile(const std::filesystem::path& dir, std::string_view name,
                                                 uint64_t max_bytes);

}  // namespace textclf::registry
