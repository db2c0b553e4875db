// Reading the load-test texts and cutting them into batches.
#include "client/loadgen/workload.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/data/labeled_csv.h"

namespace textclf::loadgen {

namespace {
// Bounds the requests prepared up front: enough variety to defeat any caching, small enough to
// keep start-up instant on a large data set.
constexpr size_t kMaxDistinctBatches = 4096;
}  // namespace

std::vector<size_t> Workload::BatchIndices(size_t index, size_t batch_size) const {
  std::vector<size_t> indices;
  indices.reserve(batch_size);
  for (size_t j = 0; j < batch_size; ++j) indices.push_back((index * batch_size + j) % texts.size());
  return indices;
}

size_t Workload::DistinctBatches(size_t batch_size) const {
  const size_t whole = (texts.size() + batch_size - 1) / batch_size;
  return std::max<size_t>(1, std::min(whole, kMaxDistinctBatches));
}

absl::StatusOr<Workload> LoadCsvWorkload(const std::string& path, const std::string& text_column,
                                         const std::string& label_column) {
  const std::vector<std::string> columns = {text_column};
  absl::StatusOr<data::LabeledTexts> read = data::ReadLabeledCsv(path, columns, label_column);
  if (!read.ok()) return read.status();
  if (read->texts.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no texts"));
  Workload workload;
  workload.texts = std::move(read->texts);
  workload.labels = std::move(read->labels);
  return workload;
}

absl::StatusOr<Workload> LoadTextFileWorkload(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  Workload workload;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) workload.texts.push_back(line);
  }
  if (workload.texts.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no texts"));
  return workload;
}

}  // namespace textclf::loadgen
