#include "core/zest/dictionary_builder.h"

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/thread_pool.h"
#include "core/zest/zest_config.h"

namespace textclf::zest {

int64_t MeasureCompressedSize(std::string_view corpus, int level, size_t block_bytes,
                              ThreadPool* pool) {
  if (corpus.empty()) return 0;
  const size_t blocks = (corpus.size() + block_bytes - 1) / block_bytes;
  // Equal blocks, so that no block is a short tail that compresses badly.
  const size_t per_block = (corpus.size() + blocks - 1) / blocks;
  std::atomic<int64_t> total{0};
  auto compress_blocks = [&](size_t begin, size_t end) {
    std::string out;
    for (size_t b = begin; b < end; ++b) {
      std::string_view block = corpus.substr(b * per_block, per_block);
      out.resize(ZSTD_compressBound(block.size()));
      size_t n = ZSTD_compress(out.data(), out.size(), block.data(), block.size(), level);
      total += ZSTD_isError(n) ? static_cast<int64_t>(block.size()) : static_cast<int64_t>(n);
    }
  };
  if (pool != nullptr) {
    pool->ParallelFor(blocks, 1, compress_blocks);
  } else {
    compress_blocks(0, blocks);
  }
  return total.load();
}

std::vector<size_t> BinaryDictionarySizes(int64_t primary_size, int max_dicts,
                                          int min_dict_size) {
  int count = 1;
  if (primary_size > kReferenceCountBaseBytes) {
    count = static_cast<int>(std::log2(static_cast<double>(primary_size) / kReferenceCountBaseBytes));
  }
  count = std::clamp(count, 1, max_dicts);
  std::vector<size_t> sizes;
  for (int j = 0; j < count; ++j) {
    sizes.push_back(std::max<int64_t>(primary_size >> j, min_dict_size));
  }
  return sizes;
}

std::vector<size_t> MulticlassDictionarySizes(std::span<const int64_t> class_compressed_sizes,
                                              int max_dicts, int min_dict_size,
                                              int64_t min_size_cap) {
  int64_t smallest = class_compressed_sizes.empty() ? 0 : class_compressed_sizes[0];
  int64_t largest = 0;
  for (int64_t s : class_compressed_sizes) {
    smallest = std::min(smallest, s);
    largest = std::max(largest, s);
  }
  if (min_size_cap > 0) smallest = std::min(smallest, min_size_cap);
  const int64_t min_size = std::max<int64_t>(smallest / 2, min_dict_size);
  const int64_t max_size = std::max(min_size, largest);
  const int64_t count =
      std::min<int64_t>(max_dicts, 1 + (max_size - min_size) / min_size);
  std::vector<size_t> sizes;
  for (int64_t i = 0; i < count; ++i) {
    sizes.push_back(static_cast<size_t>(min_size + i * (max_size - min_size) / count));
  }
  return sizes;
}

absl::StatusOr<TrainedDictionary> TrainDictionary(const SampleSet& samples, size_t size,
                                                  const v1::ZestConfig& config) {
  if (samples.buffer.empty()) {
    return absl::InvalidArgumentError("cannot train a dictionary on empty samples");
  }
  TrainedDictionary dict;
  // A dictionary larger than its samples has nothing more to hold.
  size = std::max<size_t>(std::min(size, samples.buffer.size()), ZDICT_DICTSIZE_MIN);
  dict.content.resize(size);
  ZDICT_fastCover_params_t params{};
  params.k = static_cast<unsigned>(config.dict_k());
  params.d = static_cast<unsigned>(config.dict_d());
  params.f = static_cast<unsigned>(config.dict_f());
  params.accel = static_cast<unsigned>(config.dict_accel());
  params.steps = 0;
  params.nbThreads = 1;  // the caller trains many dictionaries in parallel
  params.splitPoint = 1.0;
  params.zParams.compressionLevel = 3;  // entropy statistics, as zstd's own default
  size_t n = ZDICT_trainFromBuffer_fastCover(dict.content.data(), dict.content.size(),
                                             samples.buffer.data(), samples.sizes.data(),
                                             static_cast<unsigned>(samples.sizes.size()), params);
  if (!ZDICT_isError(n)) {
    dict.content.resize(n);
    return dict;
  }
  // Raw content: the most recent samples last, since zstd finds the dictionary's end first.
  dict.raw_content = true;
  const size_t take = std::min(size, samples.buffer.size());
  dict.content.assign(samples.buffer.data() + samples.buffer.size() - take, take);
  return dict;
}

}  // namespace textclf::zest
