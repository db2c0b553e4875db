// Publishes small, real Zest models into a repository for the registry tests.
#pragma once

#include <string>

#include "core/registry/repository.h"

namespace textclf::registry {

// Trains a two-class Zest model on a synthetic corpus and publishes it under `name`.
v1::Manifest PublishSmallModel(Repository& repository, const std::string& name, uint64_t seed = 1);

}  // namespace textclf::registry
