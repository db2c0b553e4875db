// Fuzzes manifest.json as the registry reads it: protobuf's JSON parser into v1::Manifest, then
// the path rule every listed file must pass before the registry opens it. A manifest it accepts
// must survive being written back and read again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/common/proto_json.h"
#include "core/registry/regular_file.h"
#include "textclf/v1/model.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  textclf::v1::Manifest manifest;
  if (!textclf::FromJson(std::string_view(reinterpret_cast<const char*>(data), size), &manifest, "manifest.json").ok()) {
    return 0;
  }
  for (const textclf::v1::FileEntry& entry : manifest.files()) (void)textclf::registry::ValidateManifestPath(entry.path());
  textclf::v1::Manifest again;
  if (!textclf::FromJson(textclf::ToJson(manifest), &again, "manifest.json").ok()) __builtin_trap();
  return 0;
}
