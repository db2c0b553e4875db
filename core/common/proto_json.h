// Protobuf messages to and from JSON, the on-disk form of manifests and configurations.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace textclf {

// Pretty-printed JSON with field names as in the .proto file.
std::string ToJson(const google::protobuf::Message& message);

// Parses JSON into `message`; unknown fields are an error, so typos in a config file show.
absl::Status FromJson(std::string_view json, google::protobuf::Message* message,
                      std::string_view what);

// Like FromJson, but the fields `json` sets are merged over those `message` already has (FromJson
// replaces the whole message); empty `json` changes nothing. For overrides given on top of flags.
absl::Status MergeFromJson(std::string_view json, google::protobuf::Message* message,
                           std::string_view what);

}  // namespace textclf
