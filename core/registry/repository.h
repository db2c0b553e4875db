// The on-disk model repository: <root>/<name>/<version>/ folders holding a model's files and its
// manifest.json. Publishing is atomic (stage, fsync, rename), so a reader, or a crash, sees a
// complete version or none.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/model_files.h"
#include "core/model/names.h"
#include "core/registry/file_lock.h"
#include "textclf/v1/model.pb.h"

namespace textclf::registry {

inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kMetricsFile[] = "metrics.json";
// <root>/.versions/<name>.next holds the next version number to assign to a model and outlives
// the model's folder: numbers only grow, even when every version is deleted, so that a client
// pinned to a version never silently gets another model. <name>.lock beside it is the model's
// lock.
inline constexpr char kVersionsFolder[] = ".versions";

// The naming rule (core/model/names.h), where the registry's users have always found it.
using ::textclf::ValidateModelName;

class Repository {
 public:
  explicit Repository(std::filesystem::path root);

  // Creates the root, staging and trash folders if needed, and removes nothing: for tools
  // (textclf-import) that publish into a repository a server may be using at the same time.
  absl::Status EnsureLayout();

  // EnsureLayout, then removes what interrupted publishes and deletes left behind.
  // A repository shared by several processes (replicas and training jobs on one volume) passes
  // `keep_younger_than` > 0: a leftover touched more recently may be another process's publish
  // in progress, so only older ones go.
  absl::Status Initialize(std::chrono::seconds keep_younger_than = std::chrono::seconds(0));

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path VersionDir(std::string_view name, int64_t version) const;

  // An empty folder, on the repository's file system, to write a new version into.
  absl::StatusOr<std::filesystem::path> CreateStagingDir(std::string_view name);
  void DiscardStagingDir(const std::filesystem::path& staging);

  // Checksums every file in `staging`, writes the manifest (name, next version, files and
  // creation time filled in) and renames the folder into place. Returns the published manifest.
  // The version is above every number the model ever had, and unique among all processes
  // sharing the repository.
  absl::StatusOr<v1::Manifest> Publish(const std::filesystem::path& staging, std::string_view name,
                                       v1::Manifest manifest);

  // Model names with at least one version, sorted.
  absl::StatusOr<std::vector<std::string>> ListModels() const;
  // Versions of a model, ascending; NOT_FOUND for an unknown model.
  absl::StatusOr<std::vector<int64_t>> ListVersions(std::string_view name) const;

  absl::StatusOr<v1::Manifest> ReadManifest(std::string_view name, int64_t version) const;
  // Reads every file the manifest lists and checks its size and SHA-256; a mismatch is
  // DATA_LOSS naming the file. A path leaving the version folder is INVALID_ARGUMENT; a listed
  // file that is not a regular one (a link, a FIFO) is DATA_LOSS, and is never opened for reading.
  absl::StatusOr<ModelFiles> ReadVerifiedFiles(const v1::Manifest& manifest) const;

  // Removes one version atomically: renamed out of sight first, then deleted. The model's
  // high-water mark stays.
  absl::Status DeleteVersion(std::string_view name, int64_t version);

  absl::StatusOr<v1::MetricsRecord> ReadMetrics(std::string_view name, int64_t version) const;
  // Records `metrics` under its data set name (ValidateDatasetName), keeping the
  // kMaxDatasetsPerVersion most recently evaluated data sets.
  absl::Status RecordMetrics(std::string_view name, int64_t version, const v1::EvalMetrics& metrics);

 private:
  std::filesystem::path staging_root() const { return root_ / ".staging"; }
  std::filesystem::path trash_root() const { return root_ / ".trash"; }
  std::filesystem::path versions_root() const { return root_ / kVersionsFolder; }
  // Taken by every writer of a model's folder (publish, delete, metrics), in every process.
  absl::StatusOr<FileLock> LockModel(std::string_view name) const;
  // The high-water mark: 0 when the model has none yet. Callers hold the model's lock.
  absl::StatusOr<int64_t> ReadNextVersion(std::string_view name) const;
  // Raises the mark to `next` (never lowers it) durably.
  absl::Status RaiseNextVersion(std::string_view name, int64_t next);

  std::filesystem::path root_;
  // Version numbers are assigned one publish at a time: in this process by publish_mu_, among
  // processes by the model's lock.
  std::mutex publish_mu_;
  std::mutex metrics_mu_;  // read-modify-write of metrics.json (with the model's lock)
};

}  // namespace textclf::registry
