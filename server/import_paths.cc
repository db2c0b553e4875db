#include "server/import_paths.h"

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace textclf::server {
namespace {

namespace fs = std::filesystem;

absl::Status Resolve(const std::string& import_dir, std::string_view field, std::string* value) {
  if (value->empty()) return absl::OkStatus();
  if (import_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field), " names a file on the server, and this server takes none: start it with --import-dir DIR and name "
               "a path under DIR, or leave ", std::string(field), " unset"));
  }
  const absl::Status refused = absl::InvalidArgumentError(absl::StrCat(
      std::string(field), " \"", *value, "\" is not an existing file or folder under the server's import folder (--import-dir)"));
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(import_dir, ec);
  if (ec) return refused;
  fs::path wanted = fs::path(*value);
  if (wanted.is_relative()) wanted = base / wanted;
  // Following symlinks first: a link inside the folder that points out of it stays out.
  const fs::path resolved = fs::weakly_canonical(wanted, ec);
  if (ec) return refused;
  const fs::path inside = resolved.lexically_relative(base);
  if (inside.empty() || *inside.begin() == "..") return refused;
  if (!fs::exists(resolved, ec) || ec) return refused;
  *value = resolved.string();
  return absl::OkStatus();
}

}  // namespace

absl::Status ResolveImportPaths(const std::string& import_dir, v1::ModelConfig* config) {
  if (config->has_xclass()) {
    v1::XClassConfig* x = config->mutable_xclass();
    if (absl::Status s = Resolve(import_dir, "xclass.encoder_path", x->mutable_encoder_path()); !s.ok()) return s;
    // Only a pretrain_encoder the client set (mutable_ would add one, and with it a meaning).
    if (x->has_pretrain_encoder()) {
      if (absl::Status s = Resolve(import_dir, "xclass.pretrain_encoder.vocab_file",
                                   x->mutable_pretrain_encoder()->mutable_vocab_file());
          !s.ok()) {
        return s;
      }
    }
  }
  if (config->has_encoder()) {
    if (absl::Status s = Resolve(import_dir, "encoder.vocab_file", config->mutable_encoder()->mutable_vocab_file());
        !s.ok()) {
      return s;
    }
  }
  if (config->has_image_cnn()) {
    if (absl::Status s = Resolve(import_dir, "image_cnn.init_checkpoint",
                                 config->mutable_image_cnn()->mutable_init_checkpoint());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace textclf::server
