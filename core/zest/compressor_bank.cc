#include "core/zest/compressor_bank.h"

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "absl/strings/str_cat.h"

namespace textclf::zest {

namespace {

// One compression context and output buffer per thread, shared by every model: a context works
// with any dictionary, and creating one costs far more than a compression.
struct ThreadCompressor {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out;

  ThreadCompressor() {
    // Frames carry no content size, checksum or dictionary id: we never decompress, and a
    // header whose size depends on the text's length would bias short texts.
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
  }
  ~ThreadCompressor() { ZSTD_freeCCtx(cctx); }

  // Compression parameters come from the dictionary, digested at the model's level.
  size_t CompressWith(const std::string& text, const ZSTD_CDict* dict) {
    size_t bound = ZSTD_compressBound(text.size());
    if (out.size() < bound) out.resize(bound);
    ZSTD_CCtx_refCDict(cctx, dict);
    return ZSTD_compress2(cctx, out.data(), out.size(), text.data(), text.size());
  }

  size_t CompressPlain(const std::string& text, int level) {
    size_t bound = ZSTD_compressBound(text.size());
    if (out.size() < bound) out.resize(bound);
    ZSTD_CCtx_refCDict(cctx, nullptr);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    return ZSTD_compress2(cctx, out.data(), out.size(), text.data(), text.size());
  }
};

ThreadCompressor& LocalCompressor() {
  thread_local ThreadCompressor compressor;
  return compressor;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CompressorBank>> CompressorBank::Create(
    const std::vector<std::vector<std::string>>& dictionaries, int level) {
  std::unique_ptr<CompressorBank> bank(new CompressorBank());
  bank->level_ = level;
  for (size_t c = 0; c < dictionaries.size(); ++c) {
    if (dictionaries[c].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("class ", c, " has no dictionaries"));
    }
    auto& digested = bank->classes_.emplace_back();
    for (const std::string& content : dictionaries[c]) {
      ZSTD_CDict* dict = ZSTD_createCDict(content.data(), content.size(), level);
      if (dict == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("zstd rejected a dictionary of class ", c, " (", content.size(), " bytes)"));
      }
      digested.push_back(dict);
    }
  }
  if (bank->classes_.empty()) return absl::InvalidArgumentError("a model needs dictionaries");
  ThreadCompressor& local = LocalCompressor();
  size_t empty = local.CompressWith(std::string(), bank->classes_[0][0]);
  if (ZSTD_isError(empty)) {
    return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(empty)));
  }
  bank->header_size_ = static_cast<int>(empty);
  return bank;
}

CompressorBank::~CompressorBank() {
  for (auto& dicts : classes_) {
    for (ZSTD_CDict* d : dicts) ZSTD_freeCDict(d);
  }
}

void CompressorBank::Measure(std::span<const std::string> texts, std::span<float> class_sizes,
                             std::span<float> raw_sizes) const {
  ThreadCompressor& local = LocalCompressor();
  const size_t n = texts.size();
  const size_t classes = classes_.size();
  std::fill(class_sizes.begin(), class_sizes.begin() + n * classes, 0.f);
  for (size_t c = 0; c < classes; ++c) {
    for (const ZSTD_CDict* dict : classes_[c]) {
      for (size_t i = 0; i < n; ++i) {
        // Output is bounded by ZSTD_compressBound, so zstd cannot fail here. Sums of sizes are
        // integers far below 2^24, exact in a float.
        class_sizes[i * classes + c] += static_cast<float>(local.CompressWith(texts[i], dict));
      }
    }
    const float per_dict = 1.f / static_cast<float>(classes_[c].size());
    for (size_t i = 0; i < n; ++i) class_sizes[i * classes + c] *= per_dict;
  }
  if (!raw_sizes.empty()) {
    for (size_t i = 0; i < n; ++i) {
      raw_sizes[i] = static_cast<float>(local.CompressPlain(texts[i], level_));
    }
  }
}

size_t CompressorBank::memory_bytes() const {
  size_t total = 0;
  for (auto& dicts : classes_) {
    for (const ZSTD_CDict* d : dicts) total += ZSTD_sizeof_CDict(d);
  }
  return total;
}

}  // namespace textclf::zest
