// The files of one model version, read and checksum-verified by the registry before a family
// builds a model from them, so each file is read from disk once.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace textclf {

struct ModelFiles {
  std::map<std::string, std::string, std::less<>> contents;  // path relative to the version

  absl::StatusOr<std::string_view> Get(std::string_view path) const {
    auto it = contents.find(path);
    if (it == contents.end()) {
      return absl::NotFoundError(
          absl::StrCat("model file ", std::string(path), " is not listed in the manifest"));
    }
    return std::string_view(it->second);
  }
};

}  // namespace textclf
