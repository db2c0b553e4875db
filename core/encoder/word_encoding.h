// Runs an encoder over documents of any length: tokenizes, splits documents longer than a
// chunk into several [CLS] ... [SEP] sequences, batches sequences of similar length, and gives
// back word-level representations (the average of each word's pieces) or one mean-pooled
// vector per document.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/common/cancellation.h"
#include "core/encoder/encoder.h"

namespace textclf::torch_support {
class TorchDeviceContext;
}

namespace textclf::encoder {

struct EncodingOptions {
  int layer = 0;            // hidden layer 1..layers; 0 = the last
  bool attention = false;   // also the attention each word receives at that layer
  int max_length = 0;       // tokens per sequence with [CLS] and [SEP]; 0 = the encoder's maximum
  bool truncate = false;    // keep only the first sequence of a long document
  int batch_tokens = 8192;  // padded tokens per forward pass at most
  // When set (serving), inputs go to the device through the context's reusable host buffer; the
  // encoder must live on the context's device.
  torch_support::TorchDeviceContext* device_context = nullptr;
};

// One document's words (basic tokens) and their representations, words x hidden, row-major.
struct EncodedDocument {
  std::vector<std::string> words;
  std::vector<float> vectors;
  // Per word: the attention its pieces receive, averaged over heads and over the real query
  // tokens of its sequence, summed over pieces; empty unless asked for.
  std::vector<float> attention;
};

using DocumentSink = std::function<void(size_t index, EncodedDocument document)>;
using EncodingProgress = std::function<void(size_t documents_done)>;

// Calls `sink` once per text, in no particular order, from the calling thread. Stops with
// CANCELLED when `cancel` fires.
absl::Status EncodeWords(const Encoder& encoder, std::span<const std::string_view> texts, const EncodingOptions& options,
                         const DocumentSink& sink, const CancellationToken* cancel = nullptr,
                         const EncodingProgress& progress = {});

// texts x hidden, row-major: each text's mean over its pieces at the layer, across all its
// sequences (or only the first when truncating).
absl::Status MeanPooledFeatures(const Encoder& encoder, std::span<const std::string_view> texts,
                                const EncodingOptions& options, std::vector<float>* features,
                                const CancellationToken* cancel = nullptr, const EncodingProgress& progress = {});

// Views of `texts`, for the functions above.
std::vector<std::string_view> Views(std::span<const std::string> texts);

}  // namespace textclf::encoder
