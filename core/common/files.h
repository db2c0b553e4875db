// File-system helpers with the durability rules the model registry relies on: data is fsynced
// before it is renamed into place, and directories are fsynced after entries change.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace textclf {

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// Writes `data` to `path` and fsyncs the file (not its directory).
absl::Status WriteFileDurably(const std::filesystem::path& path, std::string_view data);

// Writes to a temporary sibling, fsyncs it, renames it over `path` and fsyncs the directory:
// readers see the old content or the new, never a mix.
absl::Status ReplaceFileAtomically(const std::filesystem::path& path, std::string_view data);

absl::Status SyncDirectory(const std::filesystem::path& dir);

// Removes a file or a whole tree; a missing path is not an error.
absl::Status RemoveTree(const std::filesystem::path& path);

// Sub-directory names of `dir` (not recursive), sorted.
absl::StatusOr<std::vector<std::string>> ListSubdirectories(const std::filesystem::path& dir);

// Total size of regular files under `dir`.
uint64_t TreeSizeBytes(const std::filesystem::path& dir);

}  // namespace textclf
