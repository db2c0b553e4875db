#include "core/data/idx_examples.h"

#include "absl/strings/str_cat.h"
#include "core/data/idx_reader.h"

namespace textclf::data {

absl::StatusOr<std::vector<v1::Example>> ReadIdxExamples(const std::filesystem::path& images_path,
                                                         const std::filesystem::path& labels_path,
                                                         int64_t offset, int64_t limit,
                                                         const std::vector<std::string>& class_names) {
  if (offset < 0 || limit < 0) return absl::InvalidArgumentError("an IDX offset and limit must not be negative");
  int64_t wanted = 0;  // all
  if (limit > 0 && __builtin_add_overflow(offset, limit, &wanted)) wanted = 0;
  auto images = ReadIdx(images_path, wanted);
  if (!images.ok()) return images.status();
  auto labels = ReadIdx(labels_path, wanted);
  if (!labels.ok()) return labels.status();
  // The files' own item counts: both are cut to the same `wanted`, which would hide a mismatch.
  if (images->dims.size() != 3 || labels->dims.size() != 1 || images->file_items != labels->file_items) {
    return absl::InvalidArgumentError(absl::StrCat(images_path.string(), " and ", labels_path.string(),
                                                   " are not images [N, H, W] and labels [N] of the same N"));
  }
  std::vector<v1::Example> out;
  const int64_t size = images->item_size();
  for (int64_t i = offset; i < images->items(); ++i) {
    v1::Example e;
    v1::Tensor* t = e.mutable_tensor();
    t->add_shape(1);
    t->add_shape(images->dims[1]);
    t->add_shape(images->dims[2]);
    t->set_dtype(v1::UINT8);
    t->set_data(images->data.substr(static_cast<size_t>(i * size), static_cast<size_t>(size)));
    const size_t label = static_cast<unsigned char>(labels->data[static_cast<size_t>(i)]);
    e.set_label(label < class_names.size() ? class_names[label] : std::to_string(label));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace textclf::data
