// Loads a model version the way the registry serves it, from a folder its trainer or the
// quantizer wrote: every file of the folder, through its family's descriptor.
#pragma once

#include <filesystem>
#include <memory>

#include "absl/status/statusor.h"
#include "core/model/model.h"

namespace textclf::testing {

absl::StatusOr<std::unique_ptr<Model>> LoadModelFromDir(const v1::Manifest& manifest, const std::filesystem::path& dir);

}  // namespace textclf::testing
