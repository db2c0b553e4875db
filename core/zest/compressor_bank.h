// Every zstd dictionary of a Zest model, digested once (ZSTD_CDict) at load, and the one hot
// operation: compressed sizes of a batch of texts under each class's dictionaries.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct ZSTD_CDict_s;

namespace textclf::zest {

class CompressorBank {
 public:
  // dictionaries[c] are class c's dictionaries; all are digested at `level`.
  static absl::StatusOr<std::unique_ptr<CompressorBank>> Create(
      const std::vector<std::vector<std::string>>& dictionaries, int level);
  ~CompressorBank();

  size_t num_classes() const { return classes_.size(); }
  int level() const { return level_; }
  // Bytes of an empty frame: subtracted from every compressed size (header-size normalisation).
  int header_size() const { return header_size_; }

  // For each text i and class c: mean over c's dictionaries of the compressed size, header
  // included, into class_sizes[i * num_classes() + c]; and, if raw_sizes is not empty, the size
  // without any dictionary. Runs on the calling thread. The loop is dictionary-major: one
  // dictionary's tables stay in cache across the whole batch, which at level 22 makes it 40%
  // faster than text-major order with identical results.
  void Measure(std::span<const std::string> texts, std::span<float> class_sizes,
               std::span<float> raw_sizes) const;

  // Bytes of memory held by the digested dictionaries.
  size_t memory_bytes() const;

 private:
  CompressorBank() = default;

  int level_ = 0;
  int header_size_ = 0;
  std::vector<std::vector<ZSTD_CDict_s*>> classes_;
};

}  // namespace textclf::zest
