#include "tests/core/cnn/model_dir.h"

#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/families/families.h"
#include "core/model/model_files.h"

namespace textclf::testing {

absl::StatusOr<std::unique_ptr<Model>> LoadModelFromDir(const v1::Manifest& manifest, const std::filesystem::path& dir) {
  ModelFiles files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ASSIGN_OR_RETURN(files.contents[entry.path().filename().string()], ReadFile(entry.path()));
  }
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, FindFamily(manifest.family()));
  return family->load(manifest, files);
}

}  // namespace textclf::testing
