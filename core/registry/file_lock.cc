#include "core/registry/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace textclf::registry {

absl::StatusOr<FileLock> FileLock::Acquire(const std::filesystem::path& path) {
  // A file open for writing rather than a folder: Linux NFS emulates flock with fcntl locks,
  // which need one. flock also excludes two opens within one process, so threads that each
  // hold a Repository of the same root exclude each other as processes do.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path.string(), ": ", std::strerror(errno)));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("cannot lock ", path.string(), ": ", std::strerror(err)));
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace textclf::registry
