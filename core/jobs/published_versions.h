// The publish transaction that Train and Quantize share: versions a job published stay only if
// the caller keeps them. A job that fails after publishing some of its versions, or whose client
// goes away before hearing of them, leaves no orphan version behind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/registry/model_manager.h"

namespace textclf {

class PublishedVersions {
 public:
  PublishedVersions(registry::ModelManager& models, std::string model) : models_(models), model_(std::move(model)) {}
  // Deletes (unloading first) every version added and not kept.
  ~PublishedVersions();
  PublishedVersions(const PublishedVersions&) = delete;
  PublishedVersions& operator=(const PublishedVersions&) = delete;

  void Add(int64_t version) { versions_.push_back(version); }
  // Commits: the versions stay.
  void Keep() { kept_ = true; }

  const std::vector<int64_t>& versions() const { return versions_; }

 private:
  registry::ModelManager& models_;
  std::string model_;
  std::vector<int64_t> versions_;
  bool kept_ = false;
};

}  // namespace textclf
