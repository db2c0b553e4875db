// Publishes small, real models of the tests' word-count family (tests/support) into a repository
// for the registry tests: trained in milliseconds, without libtorch or zstd.
#pragma once

#include <string>

#include "core/registry/repository.h"

namespace textclf::registry {

// Trains a two-class word-count model on a synthetic corpus and publishes it under `name`.
v1::Manifest PublishSmallModel(Repository& repository, const std::string& name, uint64_t seed = 1);

// Publishes a version holding one small file and no model, fast enough to publish hundreds;
// for tests of numbering and of the folders. Returns the status rather than expecting success.
absl::StatusOr<v1::Manifest> PublishBareVersion(Repository& repository, const std::string& name);

}  // namespace textclf::registry
