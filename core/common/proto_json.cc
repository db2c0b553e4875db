#include "core/common/proto_json.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace textclf {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

absl::Status FromJson(std::string_view json, google::protobuf::Message* message,
                      std::string_view what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " is not valid JSON for ", message->GetTypeName(), ": ",
                     std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::Status MergeFromJson(std::string_view json, google::protobuf::Message* message,
                           std::string_view what) {
  if (json.empty()) return absl::OkStatus();
  std::unique_ptr<google::protobuf::Message> overrides(message->New());
  if (absl::Status s = FromJson(json, overrides.get(), what); !s.ok()) return s;
  message->MergeFrom(*overrides);
  return absl::OkStatus();
}

}  // namespace textclf
