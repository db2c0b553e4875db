// Which model versions are loaded, and the lookups that serve requests. A loaded model is held
// by shared_ptr: replacing or unloading a version never fails requests already running on it.
#pragma once

#include <map>
#include <utility>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/family.h"
#include "core/model/model.h"
#include "core/model/model_observer.h"
#include "core/registry/repository.h"
#include "textclf/v1/server_config.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::registry {

class ModelManager {
 public:
  // `families` loads each version by its manifest's family; `observer` (may be null) hears of
  // every version that starts or stops serving.
  ModelManager(Repository* repository, const FamilyTable* families, v1::VersionPolicy policy,
               ModelObserver* observer = nullptr);
  // Unloads everything, telling the observer.
  ~ModelManager();

  // Loads, for every model on disk, the versions the policy names and unloads the others, and
  // unloads models no longer on disk. Models that fail to load are reported in `failures` and
  // the rest keep serving.
  void ApplyPolicyToAll(std::vector<std::string>* failures);
  // The same for one model, e.g. after a new version was published. A model with no folder
  // left is unloaded entirely and answers NOT_FOUND.
  absl::Status ApplyPolicy(std::string_view name);

  // The loaded version answering for (name, version), with its scheduler; version 0 means the
  // latest loaded. Requests use this: one lookup finds both.
  absl::StatusOr<LoadedVersion> Find(std::string_view name, int64_t version) const;
  // Find's model alone.
  absl::StatusOr<std::shared_ptr<const Model>> Get(std::string_view name, int64_t version) const;

  // Loads a version (0: the latest on disk) in addition to what is loaded.
  absl::StatusOr<v1::ModelInfo> Load(std::string_view name, int64_t version);
  // Unloads a version (0: every version). FAILED_PRECONDITION, naming the ensemble, while a loaded
  // ensemble serves through it.
  absl::StatusOr<v1::ModelInfo> Unload(std::string_view name, int64_t version);
  // Unloads and deletes a version from disk (0: every version); returns the deleted versions.
  // FAILED_PRECONDITION, naming the ensemble, while any published ensemble version names it.
  absl::StatusOr<std::vector<int64_t>> Delete(std::string_view name, int64_t version);

  // A model read from disk without registering it as loaded.
  absl::StatusOr<std::shared_ptr<const Model>> LoadDetached(std::string_view name,
                                                            int64_t version) const;

  absl::StatusOr<v1::ModelInfo> Describe(std::string_view name) const;

  // Every version the manager holds a state for (loaded, loading, failed, or on disk and not
  // loaded), from memory alone: cheap enough to poll for health and metrics.
  struct VersionState {
    std::string model;
    int64_t version = 0;
    v1::ModelState state = v1::AVAILABLE;
    std::string message;  // why it failed
  };
  std::vector<VersionState> States() const;
  absl::StatusOr<std::vector<v1::ModelInfo>> List() const;

  Repository& repository() { return *repository_; }
  const FamilyTable& families() const { return *families_; }

  // Per-model locks now in existence: one per model being loaded, unloaded or deleted at this
  // moment, none once every call returned, whichever names were asked for.
  size_t model_lock_count() const;

 private:
  struct Slot {
    v1::ModelState state = v1::AVAILABLE;
    std::string message;
    std::shared_ptr<const Model> model;
    std::shared_ptr<VersionScheduler> scheduler;
  };

  // The versions the policy names, and those a loaded ensemble holds.
  std::vector<int64_t> WantedVersions(std::string_view name, const std::vector<int64_t>& on_disk) const;
  absl::Status LoadVersion(std::string_view name, int64_t version);
  // Loads the versions a version of a family with dependencies (ENSEMBLE) serves through, and
  // returns them; none for other families. Called with `name`'s lock held; takes theirs.
  absl::StatusOr<std::vector<v1::ModelReference>> LoadDependencies(std::string_view name,
                                                                   const v1::Manifest& manifest);
  // LoadDetached once the manifest is read; an ensemble's members must be loaded already.
  absl::StatusOr<std::shared_ptr<const Model>> LoadFromManifest(std::string_view name, v1::Manifest manifest) const;
  void UnloadVersion(std::string_view name, int64_t version);
  // FAILED_PRECONDITION naming an ensemble version that uses (name, version): one loaded, or, with
  // `on_disk`, any published one.
  absl::Status CheckUnused(std::string_view name, int64_t version, bool on_disk) const;
  class ModelLock;  // holds the lock of one model's entry in model_mus_

  Repository* repository_;
  v1::VersionPolicy policy_;
  const FamilyTable* families_;
  ModelObserver* observer_;
  mutable std::shared_mutex mu_;  // guards slots_
  std::map<std::string, std::map<int64_t, Slot>, std::less<>> slots_;
  // A loaded ensemble's members: (member, version) -> the ensemble versions holding it. Guarded
  // by mu_. A member listed here stays loaded whatever the policy says.
  using VersionKey = std::pair<std::string, int64_t>;
  std::map<VersionKey, std::vector<VersionKey>> dependents_;
  struct ModelMutex {
    std::mutex mu;
    int users = 0;  // holders and waiters; the entry goes when the last one leaves
  };
  mutable std::mutex model_mus_mu_;
  // Serialises loads, unloads and deletes of one model; lookups never wait for them.
  std::map<std::string, std::unique_ptr<ModelMutex>, std::less<>> model_mus_;
};

}  // namespace textclf::registry
