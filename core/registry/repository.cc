#include "core/registry/repository.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/common/files.h"
#include "core/common/proto_json.h"
#include "core/common/sha256.h"
#include "core/common/status_macros.h"
#include "core/registry/file_lock.h"
#include "core/registry/regular_file.h"
#include "google/protobuf/util/time_util.h"

namespace textclf::registry {
namespace fs = std::filesystem;

namespace {

// Generous for what this server writes (a manifest lists files; metrics.json at most
// kMaxDatasetsPerVersion evaluations of at most kMaxClasses classes), small enough that a
// planted file cannot exhaust memory.
constexpr uint64_t kMaxManifestBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxMetricsBytes = uint64_t{256} << 20;

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrCat(rng());
}

bool ParseVersion(std::string_view s, int64_t* version) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *version);
  return ec == std::errc() && ptr == s.data() + s.size() && *version > 0;
}

absl::Status SyncTree(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) RETURN_IF_ERROR(SyncDirectory(it->path()));
  }
  return SyncDirectory(dir);
}

// The latest modification anywhere in a tree: a staging folder's own time is that of its
// creation, while the job writing into it touches only the files and folders inside.
fs::file_time_type NewestWriteTime(const fs::path& root) {
  std::error_code ec;
  fs::file_time_type newest = fs::last_write_time(root, ec);
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    const fs::file_time_type t = it->last_write_time(entry_ec);
    if (!entry_ec && t > newest) newest = t;
  }
  return newest;
}

}  // namespace

Repository::Repository(fs::path root) : root_(std::move(root)) {}

fs::path Repository::VersionDir(std::string_view name, int64_t version) const {
  return root_ / std::string(name) / std::to_string(version);
}

absl::Status Repository::EnsureLayout() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the model repository ", root_.string(), ": ", ec.message()));
  }
  for (const fs::path& dir : {staging_root(), trash_root(), versions_root()}) {
    if (!ec) fs::create_directories(dir, ec);
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot prepare ", root_.string(), ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status Repository::Initialize(std::chrono::seconds keep_younger_than) {
  RETURN_IF_ERROR(EnsureLayout());
  std::error_code ec;
  // Leftovers of interrupted publishes or deletes are never visible as models; drop them.
  if (keep_younger_than.count() <= 0) {
    RETURN_IF_ERROR(RemoveTree(staging_root()));
    RETURN_IF_ERROR(RemoveTree(trash_root()));
  } else {
    const auto cutoff = fs::file_time_type::clock::now() - keep_younger_than;
    for (const fs::path& dir : {staging_root(), trash_root()}) {
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (NewestWriteTime(it->path()) < cutoff) RETURN_IF_ERROR(RemoveTree(it->path()));
      }
      ec.clear();
    }
  }
  return EnsureLayout();
}

absl::StatusOr<fs::path> Repository::CreateStagingDir(std::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  fs::path dir = staging_root() / absl::StrCat(std::string(name), ".", RandomSuffix());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  return dir;
}

void Repository::DiscardStagingDir(const fs::path& staging) { (void)RemoveTree(staging); }

absl::StatusOr<v1::Manifest> Repository::Publish(const fs::path& staging, std::string_view name,
                                                 v1::Manifest manifest) {
  RETURN_IF_ERROR(ValidateModelName(name));
  manifest.set_format_version(1);
  manifest.set_name(std::string(name));
  manifest.clear_files();
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(staging, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().filename() != kManifestFile) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    ASSIGN_OR_RETURN(std::string content, ReadFile(file));
    v1::FileEntry* entry = manifest.add_files();
    entry->set_path(fs::relative(file, staging).generic_string());
    entry->set_size_bytes(content.size());
    entry->set_sha256(Sha256Hex(content));
  }
  *manifest.mutable_created_at() = google::protobuf::util::TimeUtil::GetCurrentTime();

  std::lock_guard<std::mutex> lock(publish_mu_);
  ASSIGN_OR_RETURN(FileLock model_lock, LockModel(name));
  // Under the lock that deletes take too: deleting the model's last version removes its folder,
  // which must not happen between here and the rename.
  const fs::path dir = root_ / std::string(name);
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  RETURN_IF_ERROR(SyncDirectory(root_));
  ASSIGN_OR_RETURN(int64_t version, ReadNextVersion(name));
  // Repositories written before the mark existed have only their folders to go by.
  if (auto versions = ListVersions(name); versions.ok() && !versions->empty()) {
    version = std::max(version, versions->back() + 1);
  }
  version = std::max<int64_t>(version, 1);
  for (int attempt = 0; attempt < 100; ++attempt, ++version) {
    // The mark moves first: a crash before the rename skips a number rather than reusing one.
    RETURN_IF_ERROR(RaiseNextVersion(name, version + 1));
    manifest.set_version(version);
    RETURN_IF_ERROR(WriteFileDurably(staging / kManifestFile, ToJson(manifest)));
    RETURN_IF_ERROR(SyncTree(staging));
    const fs::path target = VersionDir(name, version);
    if (::rename(staging.c_str(), target.c_str()) == 0) {
      RETURN_IF_ERROR(SyncDirectory(dir));
      return manifest;
    }
    // A folder in the way (made by hand, or by a process of a release without the lock): rename
    // refuses to replace a non-empty one, so take the next number.
    if (errno != EEXIST && errno != ENOTEMPTY) {
      return absl::InternalError(absl::StrCat("cannot publish ", target.string(), ": ", std::strerror(errno)));
    }
  }
  return absl::AbortedError(absl::StrCat("could not find a free version number for ", std::string(name)));
}

absl::StatusOr<FileLock> Repository::LockModel(std::string_view name) const {
  // A repository opened without Initialize() (another process's view) may lack the folder.
  std::error_code ec;
  fs::create_directories(versions_root(), ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", versions_root().string(), ": ", ec.message()));
  return FileLock::Acquire(versions_root() / absl::StrCat(std::string(name), ".lock"));
}

absl::StatusOr<int64_t> Repository::ReadNextVersion(std::string_view name) const {
  const std::string file = absl::StrCat(std::string(name), ".next");
  auto text = ReadSmallRegularFile(versions_root(), file, 64);
  if (absl::IsNotFound(text.status())) return 0;
  if (!text.ok()) return text.status();
  int64_t next = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &next) || next < 1) {
    return absl::DataLossError(absl::StrCat((versions_root() / file).string(), " holds \"", absl::CHexEscape(*text),
                                            "\", not a version number; write the number above every version this "
                                            "model ever had into it"));
  }
  return next;
}

absl::Status Repository::RaiseNextVersion(std::string_view name, int64_t next) {
  ASSIGN_OR_RETURN(int64_t current, ReadNextVersion(name));
  if (current >= next) return absl::OkStatus();
  return ReplaceFileAtomically(versions_root() / absl::StrCat(std::string(name), ".next"), absl::StrCat(next, "\n"));
}

absl::StatusOr<std::vector<std::string>> Repository::ListModels() const {
  ASSIGN_OR_RETURN(std::vector<std::string> dirs, ListSubdirectories(root_));
  std::vector<std::string> models;
  for (const std::string& d : dirs) {
    if (d.empty() || d[0] == '.' || !ValidateModelName(d).ok()) continue;
    auto versions = ListVersions(d);
    if (versions.ok() && !versions->empty()) models.push_back(d);
  }
  return models;
}

absl::StatusOr<std::vector<int64_t>> Repository::ListVersions(std::string_view name) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  const fs::path dir = root_ / std::string(name);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no model named \"", std::string(name), "\""));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> entries, ListSubdirectories(dir));
  std::vector<int64_t> versions;
  for (const std::string& e : entries) {
    int64_t v = 0;
    if (ParseVersion(e, &v) && fs::exists(dir / e / kManifestFile, ec)) versions.push_back(v);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

absl::StatusOr<v1::Manifest> Repository::ReadManifest(std::string_view name, int64_t version) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  const fs::path path = VersionDir(name, version) / kManifestFile;
  auto json = ReadSmallRegularFile(VersionDir(name, version), kManifestFile, kMaxManifestBytes);
  if (!json.ok()) {
    if (absl::IsNotFound(json.status())) {
      return absl::NotFoundError(
          absl::StrCat("model \"", std::string(name), "\" has no version ", version));
    }
    if (absl::IsFailedPrecondition(json.status())) return absl::DataLossError(std::string(json.status().message()));
    return json.status();
  }
  v1::Manifest manifest;
  absl::Status parsed = FromJson(*json, &manifest, path.string());
  if (!parsed.ok()) return absl::DataLossError(std::string(parsed.message()));
  if (manifest.name() != name || manifest.version() != version) {
    return absl::DataLossError(absl::StrCat(path.string(), " describes ", manifest.name(), " version ",
                                            manifest.version(), ", not its own folder"));
  }
  return manifest;
}

absl::StatusOr<ModelFiles> Repository::ReadVerifiedFiles(const v1::Manifest& manifest) const {
  RETURN_IF_ERROR(ValidateModelName(manifest.name()));
  ModelFiles files;
  const fs::path dir = VersionDir(manifest.name(), manifest.version());
  // Every path is checked before any file is read, so a hostile manifest costs no I/O.
  for (const v1::FileEntry& entry : manifest.files()) {
    if (absl::Status s = ValidateManifestPath(entry.path()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("manifest of ", manifest.name(), " version ", manifest.version(),
                                                     ": ", std::string(s.message())));
    }
    // Listing one file twice would read it twice into memory.
    if (!files.contents.emplace(entry.path(), std::string()).second) {
      return absl::InvalidArgumentError(absl::StrCat("manifest of ", manifest.name(), " version ", manifest.version(),
                                                     " lists the file ", entry.path(), " twice"));
    }
  }
  for (const v1::FileEntry& entry : manifest.files()) {
    const fs::path path = dir / entry.path();
    auto file = RegularFile::OpenBeneath(dir, entry.path());
    if (!file.ok()) {
      return absl::DataLossError(absl::StrCat("model file ", path.string(), " is missing or unreadable: ",
                                              std::string(file.status().message())));
    }
    // The size is checked before reading, so a file grown huge is never read into memory.
    if (file->size() != entry.size_bytes()) {
      return absl::DataLossError(absl::StrCat("model file ", path.string(), " has ", file->size(),
                                              " bytes, the manifest says ", entry.size_bytes(),
                                              " (truncated or replaced)"));
    }
    auto content = file->Read();
    if (!content.ok()) {
      return absl::DataLossError(absl::StrCat("model file ", path.string(), " is unreadable: ",
                                              std::string(content.status().message())));
    }
    if (Sha256Hex(*content) != entry.sha256()) {
      return absl::DataLossError(
          absl::StrCat("model file ", path.string(), " is corrupt: its SHA-256 does not match the manifest"));
    }
    files.contents[entry.path()] = std::move(*content);
  }
  return files;
}

absl::Status Repository::DeleteVersion(std::string_view name, int64_t version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  const fs::path dir = VersionDir(name, version);
  std::error_code ec;
  if (!fs::exists(dir / kManifestFile, ec)) {
    return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
  }
  const fs::path trash = trash_root() / absl::StrCat(std::string(name), ".", version, ".", RandomSuffix());
  {
    ASSIGN_OR_RETURN(FileLock model_lock, LockModel(name));
    // Versions published before the mark existed raise it now, before they go.
    RETURN_IF_ERROR(RaiseNextVersion(name, version + 1));
    if (::rename(dir.c_str(), trash.c_str()) != 0) {
      if (errno == ENOENT) {
        return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
      }
      return absl::InternalError(absl::StrCat("cannot delete ", dir.string(), ": ", std::strerror(errno)));
    }
    RETURN_IF_ERROR(SyncDirectory(dir.parent_path()));
    // A model without versions disappears entirely (its mark stays in .versions); under the
    // lock, so that no publish is renaming into the folder meanwhile.
    if (fs::is_empty(dir.parent_path(), ec)) fs::remove(dir.parent_path(), ec);
  }
  return RemoveTree(trash);
}

absl::StatusOr<v1::MetricsRecord> Repository::ReadMetrics(std::string_view name, int64_t version) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  v1::MetricsRecord record;
  const fs::path path = VersionDir(name, version) / kMetricsFile;
  auto json = ReadSmallRegularFile(VersionDir(name, version), kMetricsFile, kMaxMetricsBytes);
  if (!json.ok()) {
    if (absl::IsNotFound(json.status())) return record;
    return json.status();
  }
  RETURN_IF_ERROR(FromJson(*json, &record, path.string()));
  return record;
}

absl::Status Repository::RecordMetrics(std::string_view name, int64_t version,
                                       const v1::EvalMetrics& metrics) {
  // The data set name becomes a key of metrics.json and a metric label: one bounded rule.
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateDatasetName(metrics.dataset()));
  std::lock_guard<std::mutex> lock(metrics_mu_);
  const fs::path dir = VersionDir(name, version);
  std::error_code ec;
  if (!fs::exists(dir / kManifestFile, ec)) {
    return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
  }
  ASSIGN_OR_RETURN(FileLock model_lock, LockModel(name));
  ASSIGN_OR_RETURN(v1::MetricsRecord record, ReadMetrics(name, version));
  auto& by_dataset = *record.mutable_by_dataset();
  by_dataset[metrics.dataset()] = metrics;
  while (by_dataset.size() > static_cast<size_t>(kMaxDatasetsPerVersion)) {
    auto oldest = by_dataset.end();
    for (auto it = by_dataset.begin(); it != by_dataset.end(); ++it) {
      if (it->first == metrics.dataset()) continue;
      if (oldest == by_dataset.end() || it->second.evaluated_at().seconds() < oldest->second.evaluated_at().seconds() ||
          (it->second.evaluated_at().seconds() == oldest->second.evaluated_at().seconds() &&
           it->second.evaluated_at().nanos() < oldest->second.evaluated_at().nanos())) {
        oldest = it;
      }
    }
    by_dataset.erase(oldest);
  }
  return ReplaceFileAtomically(dir / kMetricsFile, ToJson(record));
}

}  // namespace textclf::registry
