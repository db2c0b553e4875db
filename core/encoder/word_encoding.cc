#include "core/encoder/word_encoding.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/encoder/encoder_impl.h"
#include "core/torch/torch_device_context.h"

namespace textclf::encoder {
namespace {

// Documents tokenized and run together: bounds the memory of pieces and states waiting for
// the other chunks of their documents.
constexpr size_t kDocumentsPerGroup = 2048;

struct Sequence {
  size_t document;     // within the group
  size_t first_piece;  // of the document
  std::vector<int32_t> tokens;
};

absl::StatusOr<int> ResolveLayer(const BertConfig& config, int layer) {
  if (layer < 0 || layer > config.num_hidden_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer ", layer, " does not exist: the encoder has layers 1..", config.num_hidden_layers));
  }
  return layer == 0 ? config.num_hidden_layers : layer;
}

absl::StatusOr<int> ResolveMaxLength(const BertConfig& config, int max_length) {
  if (max_length == 0) return config.max_position_embeddings;
  if (max_length < 3 || max_length > config.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("max_length ", max_length, " must be in [3, ",
                                                   config.max_position_embeddings, "] for this encoder"));
  }
  return max_length;
}

// Splits each document's pieces into sequences of at most max_length tokens.
std::vector<Sequence> MakeSequences(const BertTokenizer& tokenizer, const std::vector<WordPieces>& docs,
                                    int max_length, bool truncate) {
  std::vector<Sequence> sequences;
  const size_t per_sequence = static_cast<size_t>(max_length - 2);
  for (size_t d = 0; d < docs.size(); ++d) {
    const auto& ids = docs[d].ids;
    size_t begin = 0;
    do {
      const size_t end = std::min(ids.size(), begin + per_sequence);
      sequences.push_back(
          {d, begin, WrapSequence(tokenizer, std::span<const int32_t>(ids.data() + begin, end - begin))});
      begin = end;
    } while (begin < ids.size() && !truncate);
  }
  return sequences;
}

// Runs `fn(batch of sequence indices, outputs)` over length-sorted batches.
template <typename Fn>
absl::Status RunBatches(const Encoder& encoder, const std::vector<Sequence>& sequences, int layer, bool attention,
                        const EncodingOptions& options, const CancellationToken* cancel, Fn fn) {
  const int batch_tokens = std::max(1, options.batch_tokens);
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].tokens.size() > sequences[b].tokens.size(); });
  const Encoder::Impl& impl = encoder.impl();
  torch::NoGradGuard no_grad;
  size_t begin = 0;
  while (begin < order.size()) {
    if (cancel != nullptr) RETURN_IF_ERROR(cancel->Check());
    const size_t longest = sequences[order[begin]].tokens.size();
    const size_t count = std::max<size_t>(1, static_cast<size_t>(batch_tokens) / longest);
    const size_t end = std::min(order.size(), begin + count);
    std::vector<const std::vector<int32_t>*> batch;
    for (size_t i = begin; i < end; ++i) batch.push_back(&sequences[order[i]].tokens);
    PaddedBatch padded;
    torch::Tensor ids, mask;
    if (options.device_context != nullptr) {
      // One pinned buffer holds ids and mask; the forward pass's results are read back before
      // the next batch overwrites it, which orders the copies.
      const int64_t elements = static_cast<int64_t>(batch.size() * longest);
      torch::Tensor host = options.device_context->HostBuffer(2 * elements, torch::kInt64);
      padded = PadSequences(batch, impl.tokenizer.pad_id(), host);
      ids = options.device_context->ToDevice(padded.ids);
      mask = options.device_context->ToDevice(padded.mask);
    } else {
      padded = PadSequences(batch, impl.tokenizer.pad_id());
      ids = padded.ids.to(impl.device);
      mask = padded.mask.to(impl.device);
    }
    padded.mask = mask;
    BertOutputs out = impl.model->forward(ids, mask, attention, layer);
    fn(std::span<const size_t>(order.data() + begin, end - begin), padded, out);
    begin = end;
  }
  return absl::OkStatus();
}

std::vector<WordPieces> TokenizeGroup(const BertTokenizer& tokenizer, std::span<const std::string_view> texts) {
  std::vector<WordPieces> docs;
  docs.reserve(texts.size());
  for (std::string_view t : texts) docs.push_back(tokenizer.Tokenize(t));
  return docs;
}

}  // namespace

std::vector<std::string_view> Views(std::span<const std::string> texts) {
  return std::vector<std::string_view>(texts.begin(), texts.end());
}

absl::Status EncodeWords(const Encoder& encoder, std::span<const std::string_view> texts, const EncodingOptions& options,
                         const DocumentSink& sink, const CancellationToken* cancel,
                         const EncodingProgress& progress) {
  const BertConfig& config = encoder.config();
  ASSIGN_OR_RETURN(const int layer, ResolveLayer(config, options.layer));
  ASSIGN_OR_RETURN(const int max_length, ResolveMaxLength(config, options.max_length));
  const int64_t hidden = config.hidden_size;
  for (size_t group = 0; group < texts.size(); group += kDocumentsPerGroup) {
    const size_t group_size = std::min(kDocumentsPerGroup, texts.size() - group);
    std::vector<WordPieces> docs = TokenizeGroup(encoder.tokenizer(), texts.subspan(group, group_size));
    std::vector<Sequence> sequences = MakeSequences(encoder.tokenizer(), docs, max_length, options.truncate);
    // Per document: the pieces' states (pieces x hidden) and received attention, filled by chunks.
    std::vector<std::vector<float>> piece_states(group_size);
    std::vector<std::vector<float>> piece_attention(group_size);
    for (size_t d = 0; d < group_size; ++d) {
      piece_states[d].assign(docs[d].ids.size() * static_cast<size_t>(hidden), 0.f);
      if (options.attention) piece_attention[d].assign(docs[d].ids.size(), 0.f);
    }
    RETURN_IF_ERROR(RunBatches(
        encoder, sequences, layer, options.attention, options, cancel,
        [&](std::span<const size_t> batch, const PaddedBatch& padded, const BertOutputs& out) {
          const torch::Tensor states = out.hidden_states[static_cast<size_t>(layer)].to(torch::kCPU).contiguous();
          torch::Tensor received;
          if (options.attention) {
            // [b, heads, q, k] -> mean over heads, then over real queries -> [b, k].
            const torch::Tensor mask = padded.mask.to(torch::kCPU, torch::kFloat32);
            const torch::Tensor probs = out.attentions.back().to(torch::kCPU).mean(1);
            received = ((probs * mask.unsqueeze(2)).sum(1) / mask.sum(1, true)).contiguous();
          }
          const int64_t tokens = states.size(1);
          for (size_t b = 0; b < batch.size(); ++b) {
            const Sequence& s = sequences[batch[b]];
            const size_t pieces = s.tokens.size() - 2;
            const float* src = states.data_ptr<float>() + (static_cast<int64_t>(b) * tokens + 1) * hidden;
            std::copy(src, src + pieces * static_cast<size_t>(hidden),
                      piece_states[s.document].begin() + static_cast<std::ptrdiff_t>(s.first_piece * hidden));
            if (options.attention) {
              const float* a = received.data_ptr<float>() + static_cast<int64_t>(b) * tokens + 1;
              std::copy(a, a + pieces, piece_attention[s.document].begin() + static_cast<std::ptrdiff_t>(s.first_piece));
            }
          }
        }));
    for (size_t d = 0; d < group_size; ++d) {
      WordPieces& doc = docs[d];
      EncodedDocument encoded;
      const size_t words = doc.words.size();
      // With truncation, words past the first sequence have no states and are left out.
      size_t covered_pieces = doc.ids.size();
      if (options.truncate) covered_pieces = std::min(covered_pieces, static_cast<size_t>(max_length - 2));
      const size_t covered_words = covered_pieces == 0 ? 0 : static_cast<size_t>(doc.word_of_piece[covered_pieces - 1]) + 1;
      encoded.vectors.assign(covered_words * static_cast<size_t>(hidden), 0.f);
      if (options.attention) encoded.attention.assign(covered_words, 0.f);
      std::vector<int> pieces_of_word(covered_words, 0);
      for (size_t p = 0; p < covered_pieces; ++p) {
        const size_t w = static_cast<size_t>(doc.word_of_piece[p]);
        ++pieces_of_word[w];
        float* dst = encoded.vectors.data() + w * static_cast<size_t>(hidden);
        const float* src = piece_states[d].data() + p * static_cast<size_t>(hidden);
        for (int64_t h = 0; h < hidden; ++h) dst[h] += src[h];
        if (options.attention) encoded.attention[w] += piece_attention[d][p];
      }
      for (size_t w = 0; w < covered_words; ++w) {
        float* dst = encoded.vectors.data() + w * static_cast<size_t>(hidden);
        const float scale = 1.f / static_cast<float>(pieces_of_word[w]);
        for (int64_t h = 0; h < hidden; ++h) dst[h] *= scale;
      }
      doc.words.resize(std::min(words, covered_words));
      encoded.words = std::move(doc.words);
      piece_states[d] = {};
      sink(group + d, std::move(encoded));
    }
    if (progress) progress(group + group_size);
  }
  return absl::OkStatus();
}

absl::Status MeanPooledFeatures(const Encoder& encoder, std::span<const std::string_view> texts,
                                const EncodingOptions& options, std::vector<float>* features,
                                const CancellationToken* cancel, const EncodingProgress& progress) {
  const BertConfig& config = encoder.config();
  ASSIGN_OR_RETURN(const int layer, ResolveLayer(config, options.layer));
  ASSIGN_OR_RETURN(const int max_length, ResolveMaxLength(config, options.max_length));
  const int64_t hidden = config.hidden_size;
  features->assign(texts.size() * static_cast<size_t>(hidden), 0.f);
  for (size_t group = 0; group < texts.size(); group += kDocumentsPerGroup) {
    const size_t group_size = std::min(kDocumentsPerGroup, texts.size() - group);
    std::vector<WordPieces> docs = TokenizeGroup(encoder.tokenizer(), texts.subspan(group, group_size));
    std::vector<Sequence> sequences = MakeSequences(encoder.tokenizer(), docs, max_length, options.truncate);
    std::vector<float> pieces(group_size, 0.f);
    RETURN_IF_ERROR(RunBatches(
        encoder, sequences, layer, false, options, cancel,
        [&](std::span<const size_t> batch, const PaddedBatch& padded, const BertOutputs& out) {
          // Sums, not means, so that the chunks of a document weigh by their pieces.
          const torch::Tensor& mask = padded.mask;
          const torch::Tensor pooled = MeanPoolPieces(out.hidden_states[static_cast<size_t>(layer)], mask);
          const torch::Tensor counts = (mask.sum(1) - 2).clamp_min(0).to(torch::kFloat32);
          const torch::Tensor sums = (pooled * counts.unsqueeze(1)).to(torch::kCPU).contiguous();
          const torch::Tensor counts_cpu = counts.to(torch::kCPU);
          for (size_t b = 0; b < batch.size(); ++b) {
            const Sequence& s = sequences[batch[b]];
            float* dst = features->data() + (group + s.document) * static_cast<size_t>(hidden);
            const float* src = sums.data_ptr<float>() + static_cast<int64_t>(b) * hidden;
            for (int64_t h = 0; h < hidden; ++h) dst[h] += src[h];
            pieces[s.document] += counts_cpu.data_ptr<float>()[b];
          }
        }));
    for (size_t d = 0; d < group_size; ++d) {
      if (pieces[d] == 0) continue;
      float* dst = features->data() + (group + d) * static_cast<size_t>(hidden);
      for (int64_t h = 0; h < hidden; ++h) dst[h] /= pieces[d];
    }
    if (progress) progress(group + group_size);
  }
  return absl::OkStatus();
}

}  // namespace textclf::encoder
