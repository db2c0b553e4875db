// An exclusive lock held through a lock file, shared by every process that uses the repository
// (replicas and training jobs on one volume), so that assigning a version number, moving the
// high-water mark and creating or removing a model's folder are one step for all of them.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"

namespace textclf::registry {

class FileLock {
 public:
  // Blocks until `path` (created if missing) is locked exclusively by this object.
  static absl::StatusOr<FileLock> Acquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace textclf::registry
