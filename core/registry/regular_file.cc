#include "core/registry/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace textclf::registry {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxManifestPathBytes = 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

absl::Status OpenError(const std::string& name, int err) {
  std::string message = absl::StrCat("cannot open ", name, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  // O_NOFOLLOW answers ELOOP for a link as the last component, O_DIRECTORY ENOTDIR for a link or
  // a file in the middle.
  if (err == ELOOP || err == ENOTDIR) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is, or lies under, a symbolic link or something else than a folder"));
  }
  return absl::InternalError(message);
}

}  // namespace

absl::Status ValidateManifestPath(std::string_view path) {
  auto refuse = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("the manifest lists the file \"", absl::CHexEscape(std::string(path.substr(0, kMaxManifestPathBytes))),
                     "\", which ", std::string(why), "; files must be relative paths inside the version folder"));
  };
  if (path.empty()) return refuse("is empty");
  if (path.size() > kMaxManifestPathBytes) return refuse(absl::StrCat("is longer than ", kMaxManifestPathBytes, " bytes"));
  if (path.find('\0') != std::string_view::npos) return refuse("contains a NUL byte");
  if (path.front() == '/') return refuse("is absolute");
  for (const std::string& part : std::vector<std::string>(absl::StrSplit(std::string(path), '/'))) {
    if (part.empty() || part == "." || part == "..") return refuse("has an empty, \".\" or \"..\" component");
  }
  return absl::OkStatus();
}

absl::StatusOr<RegularFile> RegularFile::OpenBeneath(const fs::path& dir, std::string_view relative) {
  if (absl::Status s = ValidateManifestPath(relative); !s.ok()) return s;
  const std::string name = (dir / std::string(relative)).string();
  // The version folder itself may sit behind a link (a mounted volume); what is inside may not.
  Fd at(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (at.get() < 0) return OpenError(dir.string(), errno);
  const std::vector<std::string> parts = absl::StrSplit(std::string(relative), '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const int next = ::openat(at.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return OpenError(name, errno);
    at.Reset(next);
  }
  const std::string& last = parts.back();
  // Look before opening: opening a device can have effects of its own, and a FIFO blocks.
  struct stat st {};
  if (::fstatat(at.get(), last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return OpenError(name, errno);
  auto not_regular = [&] {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is not a regular file (a symbolic link, FIFO, device or folder)"));
  };
  if (!S_ISREG(st.st_mode)) return not_regular();
  // O_NONBLOCK and a second look: it may have been swapped for a FIFO since.
  Fd fd(::openat(at.get(), last.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(name, errno);
  if (::fstat(fd.get(), &st) != 0) return OpenError(name, errno);
  if (!S_ISREG(st.st_mode)) return not_regular();
  return RegularFile(fd.Release(), static_cast<uint64_t>(st.st_size), name);
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), name_(std::move(other.name_)) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    name_ = std::move(other.name_);
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::string> RegularFile::Read() const {
  std::string content(size_, '\0');
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::pread(fd_, content.data() + done, content.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("cannot read ", name_, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  char extra = 0;
  if (done != content.size() || ::pread(fd_, &extra, 1, static_cast<off_t>(done)) > 0) {
    return absl::DataLossError(absl::StrCat(name_, " changed size while it was read"));
  }
  return content;
}

absl::StatusOr<std::string> ReadSmallRegularFile(const fs::path& dir, std::string_view name, uint64_t max_bytes) {
  absl::StatusOr<RegularFile> file = RegularFile::OpenBeneath(dir, name);
  if (!file.ok()) return file.status();
  if (file->size() > max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat((dir / std::string(name)).string(), " has ", file->size(),
                                                      " bytes; more than the ", max_bytes, " it may have"));
  }
  return file->Read();
}

}  // namespace textclf::registry
