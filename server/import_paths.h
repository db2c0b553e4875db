// Training configs may name files on the server (xclass.encoder_path, a vocab_file,
// image_cnn.init_checkpoint). Such a path resolves only under the folder --import-dir allows,
// after symlinks are followed; without that flag configs may name no server file. A path
// outside the folder and one that does not exist get the same answer, so the server's replies
// say nothing about its file system beyond that folder, and no other local file reaches the
// parsers.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "textclf/v1/model.pb.h"

namespace textclf::server {

// Rewrites every server path in `config` to its resolved absolute form under `import_dir`, or
// says which field to fix (INVALID_ARGUMENT).
absl::Status ResolveImportPaths(const std::string& import_dir, v1::ModelConfig* config);

}  // namespace textclf::server
