// The architecture of a BERT encoder as Hugging Face's config.json describes it.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace textclf::encoder {

struct BertConfig {
  int vocab_size = 30522;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  // "gelu" (the erf form) or the tanh approximation ("gelu_new", "gelu_pytorch_tanh").
  std::string hidden_act = "gelu";
  int pad_token_id = 0;

  int head_size() const { return hidden_size / num_attention_heads; }
  bool tanh_gelu() const { return hidden_act != "gelu"; }
};

// Parses config.json; fields absent take bert-base's values. The message names a bad field.
absl::StatusOr<BertConfig> ParseBertConfig(std::string_view json);

// config.json for `config`, readable by Hugging Face's BertForMaskedLM.
std::string BertConfigToJson(const BertConfig& config);

}  // namespace textclf::encoder
