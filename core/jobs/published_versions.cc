#include "core/jobs/published_versions.h"

namespace textclf {

PublishedVersions::~PublishedVersions() {
  if (kept_) return;
  // Best effort: a version that cannot be deleted now is one a later Delete call can remove.
  for (int64_t version : versions_) (void)models_.Delete(model_, version);
}

}  // namespace textclf
