#include "core/encoder/bert_model.h"

#include <string>

#include "core/torch/dropout.h"
#include "core/torch/fused_attention.h"
#include "core/torch/residual_layer_norm.h"
#include "core/torch/training_linear.h"

namespace textclf::encoder {
namespace {

// Padding keys get this added before the softmax: exp() of it is exactly 0 in float32.
constexpr float kMaskedScore = -1e9f;

// Hugging Face nests parameters in modules that only group them (attention.self.query); plain
// Modules reproduce those names so that checkpoints map one to one.
std::shared_ptr<torch::nn::Module> Group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::LayerNorm MakeNorm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

// The layers' products go through TrainingLinear, whose backward splits the weight gradient
// over the tokens (see core/torch/training_linear.h); outside training it is libtorch's linear.
torch::Tensor Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return torch_support::TrainingLinear(x, weight, bias);
}

torch::Tensor Linear(const torch::Tensor& x, const torch::nn::Linear& layer) {
  return torch_support::TrainingLinear(x, layer->weight, layer->bias);
}

torch::Tensor Gelu(const torch::Tensor& x, bool tanh_approximation) {
  return torch::gelu(x, tanh_approximation ? "tanh" : "none");
}

}  // namespace

BertLayerImpl::BertLayerImpl(const BertConfig& c)
    : heads_(c.num_attention_heads),
      tanh_gelu_(c.tanh_gelu()),
      attention_dropout_(c.attention_probs_dropout_prob),
      hidden_dropout_(c.hidden_dropout_prob) {
  auto attention = Group(*this, "attention");
  auto self = Group(*attention, "self");
  query_ = self->register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key_ = self->register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value_ = self->register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
  auto attention_output = Group(*attention, "output");
  attention_dense_ = attention_output->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  attention_norm_ = attention_output->register_module("LayerNorm", MakeNorm(c));
  intermediate_ = Group(*this, "intermediate")->register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
  auto output = Group(*this, "output");
  output_dense_ = output->register_module("dense", torch::nn::Linear(c.intermediate_size, c.hidden_size));
  output_norm_ = output->register_module("LayerNorm", MakeNorm(c));
}

torch::Tensor BertLayerImpl::DropoutAddNorm(const torch::Tensor& y, const torch::Tensor& residual,
                                            const torch::nn::LayerNorm& norm) {
  return torch_support::DropoutAddLayerNorm(y, residual, norm->weight, norm->bias, norm->options.eps(),
                                            hidden_dropout_, is_training());
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask,
                                     torch::Tensor* attention) {
  // q, k and v come from one product with the three weights side by side: one [tokens, 3 hidden]
  // GEMM runs faster than three [tokens, hidden] ones, and they stay three modules so that
  // checkpoints keep Hugging Face's names.
  const torch::Tensor qkv = Linear(x, torch::cat({query_->weight, key_->weight, value_->weight}),
                                   torch::cat({query_->bias, key_->bias, value_->bias}));
  const std::vector<torch::Tensor> parts = qkv.chunk(3, -1);
  torch_support::AttentionResult a = torch_support::MultiHeadAttention(
      parts[0], parts[1], parts[2], additive_mask, heads_, attention_dropout_, is_training(), attention != nullptr);
  if (attention != nullptr) *attention = a.probabilities;
  torch::Tensor h = DropoutAddNorm(Linear(a.context, attention_dense_), x, attention_norm_);
  torch::Tensor ff = Linear(Gelu(Linear(h, intermediate_), tanh_gelu_), output_dense_);
  return DropoutAddNorm(ff, h, output_norm_);
}

BertModelImpl::BertModelImpl(const BertConfig& c) : config_(c), embedding_dropout_(c.hidden_dropout_prob) {
  auto embeddings = Group(*this, "embeddings");
  word_embeddings_ = embeddings->register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings_ = embeddings->register_module("position_embeddings",
                                                     torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings_ =
      embeddings->register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  embedding_norm_ = embeddings->register_module("LayerNorm", MakeNorm(c));
  auto layer_group = Group(*Group(*this, "encoder"), "layer");
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    layers_.push_back(layer_group->register_module(std::to_string(l), BertLayer(c)));
  }
}

BertOutputs BertModelImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask, bool want_attentions,
                                   int up_to_layer) {
  const int64_t tokens = ids.size(1);
  TORCH_CHECK(tokens <= config_.max_position_embeddings, "sequence of ", tokens, " tokens exceeds ",
              config_.max_position_embeddings, " positions");
  // Positions 0..tokens-1 and token type 0 are rows read in order, so they are broadcast slices
  // rather than lookups: the same sum, but backward reduces over the batch instead of adding one
  // row per token into a zeroed table, as libtorch's embedding backward does.
  const torch::Tensor position_rows = position_embeddings_->weight.narrow(0, 0, tokens);
  const torch::Tensor type_row = token_type_embeddings_->weight.narrow(0, 0, 1);
  torch::Tensor x = word_embeddings_(ids) + (position_rows + type_row).unsqueeze(0);
  x = torch_support::Dropout(embedding_norm_(x), embedding_dropout_, is_training());
  const torch::Tensor additive_mask = (1 - mask.to(x.scalar_type())) * kMaskedScore;
  BertOutputs out;
  out.hidden_states.push_back(x);
  const int layers = up_to_layer > 0 ? std::min(up_to_layer, config_.num_hidden_layers) : config_.num_hidden_layers;
  for (int l = 0; l < layers; ++l) {
    torch::Tensor attention;
    x = layers_[static_cast<size_t>(l)]->forward(x, additive_mask, want_attentions ? &attention : nullptr);
    out.hidden_states.push_back(x);
    if (want_attentions) out.attentions.push_back(attention);
  }
  return out;
}

MlmHeadImpl::MlmHeadImpl(const BertConfig& c) : tanh_gelu_(c.tanh_gelu()) {
  auto predictions = Group(*Group(*this, "cls"), "predictions");
  auto transform = Group(*predictions, "transform");
  dense_ = transform->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  norm_ = transform->register_module("LayerNorm", MakeNorm(c));
  bias_ = predictions->register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor MlmHeadImpl::transform(const torch::Tensor& hidden) { return norm_(Gelu(dense_(hidden), tanh_gelu_)); }

torch::Tensor MlmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  return torch::nn::functional::linear(transform(hidden), word_embeddings, bias_);
}

void InitializeBertWeights(torch::nn::Module& module, int pad_token_id) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    const bool norm = name.find("LayerNorm") != std::string::npos;
    if (name.ends_with("bias")) {
      p.zero_();
    } else if (norm) {
      p.fill_(1.0);
    } else {
      p.normal_(0.0, 0.02);
      if (name.ends_with("word_embeddings.weight")) p[pad_token_id].zero_();
    }
  }
}

}  // namespace textclf::encoder
