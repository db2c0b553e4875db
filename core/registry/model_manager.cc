#include "core/registry/model_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/stopwatch.h"
#include "core/common/status_macros.h"

namespace textclf::registry {

ModelManager::ModelManager(Repository* repository, const FamilyTable* families, v1::VersionPolicy policy,
                           ModelObserver* observer)
    : repository_(repository), policy_(std::move(policy)), families_(families), observer_(observer) {}

ModelManager::~ModelManager() {
  std::vector<std::shared_ptr<const Model>> loaded;
  std::vector<std::shared_ptr<VersionScheduler>> schedulers;
  {
    std::unique_lock lock(mu_);
    for (auto& [name, versions] : slots_) {
      for (auto& [v, slot] : versions) {
        if (slot.model != nullptr) loaded.push_back(slot.model);
        if (slot.scheduler != nullptr) schedulers.push_back(std::move(slot.scheduler));
      }
    }
    slots_.clear();
  }
  if (observer_ != nullptr) {
    for (const auto& model : loaded) observer_->OnUnloaded(model);
  }
  schedulers.clear();  // each drains its queue
}

// Entries are counted and erased by their last user, so that a stream of made-up names cannot
// grow the map: only names with a call in progress have one.
class ModelManager::ModelLock {
 public:
  ModelLock(ModelManager& manager, std::string_view name) : manager_(manager) {
    {
      std::lock_guard<std::mutex> lock(manager_.model_mus_mu_);
      it_ = manager_.model_mus_.find(name);
      if (it_ == manager_.model_mus_.end()) {
        it_ = manager_.model_mus_.emplace(std::string(name), std::make_unique<ModelMutex>()).first;
      }
      ++it_->second->users;
    }
    it_->second->mu.lock();
  }
  ~ModelLock() {
    it_->second->mu.unlock();
    std::lock_guard<std::mutex> lock(manager_.model_mus_mu_);
    if (--it_->second->users == 0) manager_.model_mus_.erase(it_);
  }
  ModelLock(const ModelLock&) = delete;
  ModelLock& operator=(const ModelLock&) = delete;

 private:
  ModelManager& manager_;
  decltype(ModelManager::model_mus_)::iterator it_;
};

size_t ModelManager::model_lock_count() const {
  std::lock_guard<std::mutex> lock(model_mus_mu_);
  return model_mus_.size();
}

std::vector<int64_t> ModelManager::WantedVersions(std::string_view name, const std::vector<int64_t>& on_disk) const {
  std::vector<int64_t> wanted;
  switch (policy_.policy_case()) {
    case v1::VersionPolicy::kAll:
      wanted = on_disk;
      break;
    case v1::VersionPolicy::kSpecific: {
      for (int64_t v : on_disk) {
        const auto& list = policy_.specific().versions();
        if (std::find(list.begin(), list.end(), v) != list.end()) wanted.push_back(v);
      }
      break;
    }
    default: {
      const size_t n = policy_.latest() > 0 ? static_cast<size_t>(policy_.latest()) : 1;
      const size_t keep = std::min(n, on_disk.size());
      wanted.assign(on_disk.end() - keep, on_disk.end());
    }
  }
  // An ensemble's members stay, whatever the policy says, while the ensemble is loaded.
  std::shared_lock lock(mu_);
  for (int64_t v : on_disk) {
    if (dependents_.count(VersionKey(std::string(name), v)) > 0 &&
        std::find(wanted.begin(), wanted.end(), v) == wanted.end()) {
      wanted.push_back(v);
    }
  }
  std::sort(wanted.begin(), wanted.end());
  return wanted;
}

absl::StatusOr<std::shared_ptr<const Model>> ModelManager::LoadDetached(std::string_view name,
                                                                        int64_t version) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(v1::Manifest manifest, repository_->ReadManifest(name, version));
  return LoadFromManifest(name, std::move(manifest));
}

absl::StatusOr<std::shared_ptr<const Model>> ModelManager::LoadFromManifest(std::string_view name,
                                                                            v1::Manifest manifest) const {
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, families_->Find(manifest.family()));
  if (family->dependencies != nullptr) {
    // An ensemble serves through its members as they are loaded here (LoadDependencies loads them).
    std::vector<LoadedVersion> dependencies;
    for (const v1::ModelReference& ref : family->dependencies(manifest)) {
      auto found = ref.version() > 0 ? Find(ref.name(), ref.version())
                                     : absl::InvalidArgumentError("the manifest names no version of it");
      if (!found.ok()) {
        return absl::Status(found.status().code(),
                            absl::StrCat("model \"", std::string(name), "\" version ", manifest.version(),
                                         " serves through version ", ref.version(), " of model \"", ref.name(),
                                         "\": ", found.status().message()));
      }
      dependencies.push_back(*std::move(found));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                     family->load_with_dependencies(std::move(manifest), std::move(dependencies)));
    return std::shared_ptr<const Model>(std::move(model));
  }
  ASSIGN_OR_RETURN(ModelFiles files, repository_->ReadVerifiedFiles(manifest));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, family->load(std::move(manifest), files));
  return std::shared_ptr<const Model>(std::move(model));
}

absl::StatusOr<std::vector<v1::ModelReference>> ModelManager::LoadDependencies(std::string_view name,
                                                                               const v1::Manifest& manifest) {
  const int64_t version = manifest.version();
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, families_->Find(manifest.family()));
  if (family->dependencies == nullptr) return std::vector<v1::ModelReference>{};
  std::vector<v1::ModelReference> refs = family->dependencies(manifest);
  for (const v1::ModelReference& ref : refs) {
    const std::string what = absl::StrCat("model \"", std::string(name), "\" version ", version,
                                          " serves through version ", ref.version(), " of model \"", ref.name(), "\"");
    RETURN_IF_ERROR(ValidateModelName(ref.name()));
    if (ref.version() <= 0) return absl::InvalidArgumentError(absl::StrCat(what, ", which is no version"));
    // Locks are taken ensemble first, member second; a member that is itself an ensemble (or the
    // model itself) could close a cycle of locks, so none is one.
    if (ref.name() == name) return absl::InvalidArgumentError(absl::StrCat(what, ": itself"));
    auto member = repository_->ReadManifest(ref.name(), ref.version());
    if (!member.ok()) return absl::Status(member.status().code(), absl::StrCat(what, ": ", member.status().message()));
    ASSIGN_OR_RETURN(const FamilyDescriptor* member_family, families_->Find(member->family()));
    if (member_family->dependencies != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(what, ", which is itself an ensemble"));
    }
    ModelLock member_lock(*this, ref.name());
    if (absl::Status s = LoadVersion(ref.name(), ref.version()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(what, ", which failed to load: ", s.message()));
    }
  }
  return refs;
}

absl::Status ModelManager::CheckUnused(std::string_view name, int64_t version, bool on_disk) const {
  auto refused = [&](const std::string& ensemble, int64_t ensemble_version, const char* how) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", version, " of model \"", std::string(name), "\" is a member of ensemble \"", ensemble,
        "\" version ", ensemble_version, how, "; delete that ensemble version first"));
  };
  {
    std::shared_lock lock(mu_);
    if (auto it = dependents_.find(VersionKey(std::string(name), version)); it != dependents_.end() && !it->second.empty()) {
      return refused(it->second.front().first, it->second.front().second, ", which is loaded");
    }
  }
  if (!on_disk) return absl::OkStatus();
  // Unloaded ensembles count too: deleting their member would leave them unable to load.
  ASSIGN_OR_RETURN(std::vector<std::string> models, repository_->ListModels());
  for (const std::string& model : models) {
    auto versions = repository_->ListVersions(model);
    if (!versions.ok()) continue;  // deleted meanwhile
    for (int64_t v : *versions) {
      auto manifest = repository_->ReadManifest(model, v);
      if (!manifest.ok()) continue;  // unreadable: it cannot load either way
      auto family = families_->Find(manifest->family());
      if (!family.ok() || (*family)->dependencies == nullptr) continue;
      for (const v1::ModelReference& ref : (*family)->dependencies(*manifest)) {
        if (ref.name() == name && ref.version() == version) return refused(model, v, "");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ModelManager::LoadVersion(std::string_view name, int64_t version) {
  {
    std::unique_lock lock(mu_);
    Slot& slot = slots_[std::string(name)][version];
    if (slot.state == v1::LOADED) return absl::OkStatus();
    slot.state = v1::LOADING;
  }
  Stopwatch watch;
  // The manifest is read once: it names the dependencies and then loads the model.
  absl::StatusOr<v1::Manifest> manifest = repository_->ReadManifest(name, version);  // checks the name
  absl::StatusOr<std::vector<v1::ModelReference>> dependencies =
      manifest.ok() ? LoadDependencies(name, *manifest) : manifest.status();
  auto model = dependencies.ok() ? LoadFromManifest(name, *std::move(manifest))
                                 : absl::StatusOr<std::shared_ptr<const Model>>(dependencies.status());
  std::shared_ptr<VersionScheduler> scheduler;
  if (model.ok() && observer_ != nullptr) {
    auto made = observer_->OnLoaded(*model, watch.seconds());
    if (made.ok()) {
      scheduler = std::move(*made);
    } else {
      model = made.status();
    }
  }
  std::unique_lock lock(mu_);
  Slot& slot = slots_[std::string(name)][version];
  if (!model.ok()) {
    slot.state = v1::FAILED;
    slot.message = std::string(model.status().message());
    slot.model.reset();
    slot.scheduler.reset();
    return model.status();
  }
  slot.state = v1::LOADED;
  slot.message.clear();
  for (const v1::ModelReference& ref : *dependencies) {
    dependents_[VersionKey(ref.name(), ref.version())].push_back(VersionKey(std::string(name), version));
  }
  slot.model = std::move(*model);
  slot.scheduler = std::move(scheduler);
  return absl::OkStatus();
}

void ModelManager::UnloadVersion(std::string_view name, int64_t version) {
  std::shared_ptr<const Model> unloaded;
  std::shared_ptr<VersionScheduler> scheduler;  // drains (outside the lock) when the last holder lets go
  std::vector<std::string> released;               // members no loaded ensemble holds any more
  {
    std::unique_lock lock(mu_);
    auto it = slots_.find(name);
    if (it == slots_.end()) return;
    if (auto v = it->second.find(version); v != it->second.end()) {
      unloaded = std::move(v->second.model);
      scheduler = std::move(v->second.scheduler);
      it->second.erase(v);  // requests still running keep their shared_ptr
    }
    if (it->second.empty()) slots_.erase(it);
    // An ensemble lets go of its members.
    const VersionKey self(std::string(name), version);
    for (auto d = dependents_.begin(); d != dependents_.end();) {
      auto& holders = d->second;
      if (std::find(holders.begin(), holders.end(), self) != holders.end()) {
        holders.erase(std::remove(holders.begin(), holders.end(), self), holders.end());
        if (holders.empty()) released.push_back(d->first.first);
      }
      d = holders.empty() ? dependents_.erase(d) : std::next(d);
    }
  }
  if (unloaded != nullptr && observer_ != nullptr) observer_->OnUnloaded(unloaded);
  scheduler.reset();
  // Members the policy does not name go now. Their locks come after this model's, as in loading.
  for (const std::string& member : released) (void)ApplyPolicy(member);
}

absl::Status ModelManager::ApplyPolicy(std::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ModelLock model_lock(*this, name);
  auto listed = repository_->ListVersions(name);
  // A model gone from disk (deleted by another process sharing the repository) has no version
  // to keep: everything loaded goes, and the caller still hears NOT_FOUND.
  if (!listed.ok() && !absl::IsNotFound(listed.status())) return listed.status();
  const std::vector<int64_t> on_disk = listed.ok() ? *listed : std::vector<int64_t>{};
  std::vector<int64_t> wanted = WantedVersions(name, on_disk);
  absl::Status first_error = listed.status();
  // New versions load before old ones go, so the model never has no version serving.
  for (int64_t v : wanted) {
    absl::Status s = LoadVersion(name, v);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  std::vector<int64_t> loaded;
  {
    std::shared_lock lock(mu_);
    if (auto it = slots_.find(name); it != slots_.end()) {
      for (const auto& [v, slot] : it->second) loaded.push_back(v);
    }
  }
  for (int64_t v : loaded) {
    if (std::find(wanted.begin(), wanted.end(), v) == wanted.end()) UnloadVersion(name, v);
  }
  return first_error;
}

void ModelManager::ApplyPolicyToAll(std::vector<std::string>* failures) {
  auto names = repository_->ListModels();
  if (!names.ok()) {
    failures->push_back(std::string(names.status().message()));
    return;
  }
  for (const std::string& name : *names) {
    absl::Status s = ApplyPolicy(name);
    if (!s.ok()) failures->push_back(absl::StrCat(name, ": ", std::string(s.message())));
  }
  // Models still loaded but no longer on disk were deleted behind our back: unload them.
  std::vector<std::string> gone;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, versions] : slots_) {
      if (!std::binary_search(names->begin(), names->end(), name)) gone.push_back(name);
    }
  }
  for (const std::string& name : gone) {
    absl::Status s = ApplyPolicy(name);
    if (!s.ok() && !absl::IsNotFound(s)) failures->push_back(absl::StrCat(name, ": ", std::string(s.message())));
  }
}

absl::StatusOr<std::shared_ptr<const Model>> ModelManager::Get(std::string_view name,
                                                               int64_t version) const {
  ASSIGN_OR_RETURN(LoadedVersion loaded, Find(name, version));
  return std::move(loaded.model);
}

absl::StatusOr<LoadedVersion> ModelManager::Find(std::string_view name, int64_t version) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  {
    std::shared_lock lock(mu_);
    auto it = slots_.find(name);
    if (it != slots_.end()) {
      if (version == 0) {
        const Slot* failed = nullptr;
        for (auto v = it->second.rbegin(); v != it->second.rend(); ++v) {
          if (v->second.state == v1::LOADED) return LoadedVersion{v->second.model, v->second.scheduler};
          if (v->second.state == v1::FAILED && failed == nullptr) failed = &v->second;
        }
        if (failed != nullptr) {
          return absl::FailedPreconditionError(absl::StrCat("model \"", std::string(name),
                                                            "\" has no loaded version; the latest failed to load: ",
                                                            failed->message));
        }
      } else if (auto v = it->second.find(version); v != it->second.end()) {
        if (v->second.state == v1::LOADED) return LoadedVersion{v->second.model, v->second.scheduler};
        if (v->second.state == v1::FAILED) {
          return absl::FailedPreconditionError(absl::StrCat("version ", version, " of model \"",
                                                            std::string(name), "\" failed to load: ",
                                                            v->second.message));
        }
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> on_disk, repository_->ListVersions(name));
  if (version != 0 && std::find(on_disk.begin(), on_disk.end(), version) == on_disk.end()) {
    return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("model \"", std::string(name), "\"",
                   version == 0 ? std::string(" has no loaded version") : absl::StrCat(" version ", version, " is not loaded"),
                   "; load it with LoadModel"));
}

absl::StatusOr<v1::ModelInfo> ModelManager::Load(std::string_view name, int64_t version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  {
    ModelLock model_lock(*this, name);
    ASSIGN_OR_RETURN(std::vector<int64_t> on_disk, repository_->ListVersions(name));
    if (on_disk.empty()) {
      return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no versions"));
    }
    if (version == 0) version = on_disk.back();
    if (std::find(on_disk.begin(), on_disk.end(), version) == on_disk.end()) {
      return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
    }
    RETURN_IF_ERROR(LoadVersion(name, version));
  }
  return Describe(name);
}

absl::StatusOr<v1::ModelInfo> ModelManager::Unload(std::string_view name, int64_t version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  {
    ModelLock model_lock(*this, name);
    ASSIGN_OR_RETURN(std::vector<int64_t> on_disk, repository_->ListVersions(name));
    if (version != 0 && std::find(on_disk.begin(), on_disk.end(), version) == on_disk.end()) {
      return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
    }
    std::vector<int64_t> targets;
    if (version == 0) {
      std::shared_lock lock(mu_);
      if (auto it = slots_.find(name); it != slots_.end()) {
        for (const auto& [v, slot] : it->second) targets.push_back(v);
      }
    } else {
      targets.push_back(version);
    }
    for (int64_t v : targets) RETURN_IF_ERROR(CheckUnused(name, v, /*on_disk=*/false));
    for (int64_t v : targets) UnloadVersion(name, v);
  }
  return Describe(name);
}

absl::StatusOr<std::vector<int64_t>> ModelManager::Delete(std::string_view name, int64_t version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ModelLock model_lock(*this, name);
  ASSIGN_OR_RETURN(std::vector<int64_t> on_disk, repository_->ListVersions(name));
  std::vector<int64_t> targets;
  if (version == 0) {
    targets = on_disk;
  } else if (std::find(on_disk.begin(), on_disk.end(), version) != on_disk.end()) {
    targets.push_back(version);
  } else {
    return absl::NotFoundError(absl::StrCat("model \"", std::string(name), "\" has no version ", version));
  }
  // Checked for every version before any goes: a refused delete changes nothing.
  for (int64_t v : targets) RETURN_IF_ERROR(CheckUnused(name, v, /*on_disk=*/true));
  // The versions that will serve afterwards load first, so that deleting the serving version
  // (or taking back a just-published one) never leaves the model without one.
  std::vector<int64_t> remaining;
  for (int64_t v : on_disk) {
    if (std::find(targets.begin(), targets.end(), v) == targets.end()) remaining.push_back(v);
  }
  for (int64_t v : WantedVersions(name, remaining)) (void)LoadVersion(name, v);  // failures show as FAILED
  std::vector<int64_t> deleted;
  for (int64_t v : targets) {
    UnloadVersion(name, v);
    RETURN_IF_ERROR(repository_->DeleteVersion(name, v));
    deleted.push_back(v);
  }
  return deleted;
}

absl::StatusOr<v1::ModelInfo> ModelManager::Describe(std::string_view name) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(std::vector<int64_t> on_disk, repository_->ListVersions(name));
  v1::ModelInfo info;
  info.set_name(std::string(name));
  std::map<int64_t, Slot> slots;
  {
    std::shared_lock lock(mu_);
    if (auto it = slots_.find(name); it != slots_.end()) slots = it->second;
  }
  for (int64_t v : on_disk) {
    v1::VersionInfo* vi = info.add_versions();
    vi->set_version(v);
    auto slot = slots.find(v);
    vi->set_state(slot == slots.end() ? v1::AVAILABLE : slot->second.state);
    if (slot != slots.end()) vi->set_state_message(slot->second.message);
    auto manifest = repository_->ReadManifest(name, v);
    if (!manifest.ok()) {
      vi->set_state(v1::FAILED);
      vi->set_state_message(std::string(manifest.status().message()));
      continue;
    }
    info.set_family(manifest->family());
    info.clear_classes();
    for (const auto& c : manifest->classes()) info.add_classes(c);
    *vi->mutable_created_at() = manifest->created_at();
    *vi->mutable_config() = manifest->config();
    *vi->mutable_training() = manifest->training();
    uint64_t size = 0;
    for (const auto& f : manifest->files()) size += f.size_bytes();
    vi->set_size_bytes(size);
    if (auto metrics = repository_->ReadMetrics(name, v); metrics.ok()) {
      for (const auto& [dataset, m] : metrics->by_dataset()) (*vi->mutable_metrics())[dataset] = m;
    }
  }
  return info;
}

std::vector<ModelManager::VersionState> ModelManager::States() const {
  std::shared_lock lock(mu_);
  std::vector<VersionState> out;
  for (const auto& [name, versions] : slots_) {
    for (const auto& [version, slot] : versions) out.push_back({name, version, slot.state, slot.message});
  }
  return out;
}

absl::StatusOr<std::vector<v1::ModelInfo>> ModelManager::List() const {
  ASSIGN_OR_RETURN(std::vector<std::string> names, repository_->ListModels());
  std::vector<v1::ModelInfo> infos;
  for (const std::string& name : names) {
    auto info = Describe(name);
    if (info.ok()) infos.push_back(std::move(*info));  // a model deleted meanwhile is skipped
  }
  return infos;
}

}  // namespace textclf::registry
