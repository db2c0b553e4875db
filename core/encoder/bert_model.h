// The BERT encoder in libtorch, with Hugging Face's parameter names (embeddings.*,
// encoder.layer.N.*), and the masked-language-model head (cls.predictions.*). Included only by
// .cc files of core/encoder and core/xclass.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/encoder/bert_config.h"

namespace textclf::encoder {

struct BertOutputs {
  // hidden_states[0] is the embedding output, hidden_states[l] layer l's: [batch, tokens, hidden].
  std::vector<torch::Tensor> hidden_states;
  // Per layer [batch, heads, tokens, tokens], when asked for.
  std::vector<torch::Tensor> attentions;
};

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  // `additive_mask` [batch, tokens]: 0 for real keys, a large negative for padding.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask, torch::Tensor* attention);

 private:
  // LayerNorm(dropout(y) + residual): fused while training (core/torch/residual_layer_norm.h).
  torch::Tensor DropoutAddNorm(const torch::Tensor& y, const torch::Tensor& residual, const torch::nn::LayerNorm& norm);

  int heads_;
  bool tanh_gelu_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attention_dense_{nullptr};
  torch::nn::LayerNorm attention_norm_{nullptr};
  torch::nn::Linear intermediate_{nullptr}, output_dense_{nullptr};
  torch::nn::LayerNorm output_norm_{nullptr};
  double attention_dropout_, hidden_dropout_;  // probabilities, applied while is_training()
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(const BertConfig& config);

  // `ids` and `mask` [batch, tokens] int64; mask 1 marks real tokens. Runs layers 1..up_to_layer
  // (0: all). Padding never changes the states of real tokens: padded keys get no attention.
  BertOutputs forward(const torch::Tensor& ids, const torch::Tensor& mask, bool want_attentions = false,
                      int up_to_layer = 0);

  const BertConfig& config() const { return config_; }
  const torch::Tensor& word_embeddings() const { return word_embeddings_->weight; }

 private:
  BertConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr}, token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embedding_norm_{nullptr};
  double embedding_dropout_;
  std::vector<BertLayer> layers_;
};
TORCH_MODULE(BertModel);

// cls.predictions: dense + GELU + LayerNorm, then the word embeddings (tied) and a bias.
class MlmHeadImpl : public torch::nn::Module {
 public:
  explicit MlmHeadImpl(const BertConfig& config);
  // hidden [n, hidden] -> logits [n, vocab].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);
  // The transform alone: hidden [n, hidden] -> [n, hidden], whose product with the word
  // embeddings plus bias() are the logits. Pretraining fuses that product with its loss.
  torch::Tensor transform(const torch::Tensor& hidden);
  const torch::Tensor& bias() const { return bias_; }

 private:
  bool tanh_gelu_;
  torch::nn::Linear dense_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::Tensor bias_;
};
TORCH_MODULE(MlmHead);

// BERT's initialisation: normal(0, 0.02) weights, zero biases, LayerNorm 1/0, zero padding row.
void InitializeBertWeights(torch::nn::Module& module, int pad_token_id);

}  // namespace textclf::encoder
