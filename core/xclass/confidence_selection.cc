#include "core/xclass/confidence_selection.h"

#include <algorithm>
#include <cmath>

namespace textclf::xclass {

std::vector<size_t> SelectConfident(std::span<const int> labels, std::span<const double> confidence, int classes,
                                    const SelectionOptions& options) {
  std::vector<std::vector<size_t>> members(static_cast<size_t>(classes));
  for (size_t i = 0; i < labels.size(); ++i) members[static_cast<size_t>(labels[i])].push_back(i);
  std::vector<size_t> selected;
  for (auto& docs : members) {
    if (docs.empty()) continue;
    std::stable_sort(docs.begin(), docs.end(), [&](size_t a, size_t b) { return confidence[a] > confidence[b]; });
    size_t keep;
    if (options.per_class_thresholds) {
      double mean_distance = 0;
      for (size_t i : docs) mean_distance += 1.0 - confidence[i];
      mean_distance /= static_cast<double>(docs.size());
      keep = 0;
      while (keep < docs.size() && 1.0 - confidence[docs[keep]] <= mean_distance) ++keep;
    } else {
      keep = static_cast<size_t>(std::floor(options.fraction * static_cast<double>(docs.size())));
    }
    keep = std::clamp<size_t>(keep, 1, docs.size());
    selected.insert(selected.end(), docs.begin(), docs.begin() + static_cast<std::ptrdiff_t>(keep));
  }
  std::sort(selected.begin(), selected.end());
  return selected;
}

}  // namespace textclf::xclass
