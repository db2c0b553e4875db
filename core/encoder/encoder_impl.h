// libtorch internals of Encoder, for the .cc files of core/encoder and core/xclass that train or
// run it; also the batching of token sequences shared by them.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <span>
#include <vector>

#include "core/encoder/bert_model.h"
#include "core/encoder/encoder.h"

namespace textclf::encoder {

struct Encoder::Impl {
  Impl(BertConfig c, BertTokenizer t, torch::Device d)
      : config(std::move(c)), tokenizer(std::move(t)), device(d), model(config) {}

  BertConfig config;
  BertTokenizer tokenizer;
  torch::Device device;
  // libtorch modules are not const-correct: forward() is non-const even where, as in inference
  // without gradients, it changes nothing. Inference through a const Encoder is thread-safe.
  mutable BertModel model;
  MlmHead mlm_head{nullptr};  // only while pretraining
};

// Token sequences padded into one batch: ids and attention mask [n, longest] int64.
struct PaddedBatch {
  torch::Tensor ids;
  torch::Tensor mask;
};
// Each sequence already holds [CLS] ... [SEP]; pads with `pad_id` on the right. With a
// `host_buffer` of at least 2 x n x longest int64 values, ids and mask are views into it.
PaddedBatch PadSequences(std::span<const std::vector<int32_t>* const> sequences, int32_t pad_id,
                         torch::Tensor host_buffer = {});

// [CLS] + pieces[begin, end) + [SEP].
std::vector<int32_t> WrapSequence(const BertTokenizer& tokenizer, std::span<const int32_t> pieces);

// Mean over the real, non-special tokens (mask 1, not the first or last real token) of
// `hidden` [n, tokens, hidden] -> [n, hidden]; sequences without such tokens give zeros.
torch::Tensor MeanPoolPieces(const torch::Tensor& hidden, const torch::Tensor& mask);

// The torch device a device name ("cpu", "cuda", "cuda:N") stands for.
torch::Device TorchDevice(const std::string& name);

}  // namespace textclf::encoder
