// Loads textclf-server's configuration (JSON of textclf.v1.ServerConfig) and fills defaults.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "textclf/v1/server_config.pb.h"

namespace textclf::server {

absl::StatusOr<v1::ServerConfig> LoadServerConfig(const std::filesystem::path& path);

// Every unset field gets its documented default; invalid values are INVALID_ARGUMENT.
absl::StatusOr<v1::ServerConfig> ResolveServerConfig(v1::ServerConfig config);

}  // namespace textclf::server
