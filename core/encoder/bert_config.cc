#include "core/encoder/bert_config.h"

#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace textclf::encoder {
namespace {

// Values beyond int's range are refused, not narrowed: 2^32 attention heads became 0, and the
// divisibility check below divided by it.
absl::Status ReadInt(const nlohmann::json& j, const char* key, int min, int* out) {
  if (!j.contains(key)) return absl::OkStatus();
  constexpr int kMax = std::numeric_limits<int>::max();
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < min || j[key].get<int64_t>() > kMax) {
    return absl::InvalidArgumentError(absl::StrCat("config.json: ", key, " must be an integer from ", min, " to ", kMax));
  }
  *out = j[key].get<int>();
  return absl::OkStatus();
}

absl::Status ReadDouble(const nlohmann::json& j, const char* key, double* out) {
  if (!j.contains(key)) return absl::OkStatus();
  if (!j[key].is_number() || j[key].get<double>() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("config.json: ", key, " must be a non-negative number"));
  }
  *out = j[key].get<double>();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BertConfig> ParseBertConfig(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError("config.json is not a JSON object");
  if (j.contains("model_type") && j["model_type"].is_string() && j["model_type"] != "bert") {
    return absl::InvalidArgumentError(absl::StrCat("config.json: model_type is \"", j["model_type"].get<std::string>(),
                                                   "\"; only BERT encoders (\"bert\") are supported"));
  }
  BertConfig c;
  for (absl::Status s : {ReadInt(j, "vocab_size", 1, &c.vocab_size), ReadInt(j, "hidden_size", 1, &c.hidden_size),
                         ReadInt(j, "num_hidden_layers", 1, &c.num_hidden_layers),
                         ReadInt(j, "num_attention_heads", 1, &c.num_attention_heads),
                         ReadInt(j, "intermediate_size", 1, &c.intermediate_size),
                         ReadInt(j, "max_position_embeddings", 2, &c.max_position_embeddings),
                         ReadInt(j, "type_vocab_size", 1, &c.type_vocab_size),
                         ReadInt(j, "pad_token_id", 0, &c.pad_token_id),
                         ReadDouble(j, "layer_norm_eps", &c.layer_norm_eps),
                         ReadDouble(j, "hidden_dropout_prob", &c.hidden_dropout_prob),
                         ReadDouble(j, "attention_probs_dropout_prob", &c.attention_probs_dropout_prob)}) {
    if (!s.ok()) return s;
  }
  for (auto [key, value] : {std::pair{"hidden_dropout_prob", c.hidden_dropout_prob},
                             std::pair{"attention_probs_dropout_prob", c.attention_probs_dropout_prob}}) {
    if (value >= 1) return absl::InvalidArgumentError(absl::StrCat("config.json: ", key, " must be below 1"));
  }
  if (j.contains("hidden_act")) {
    if (!j["hidden_act"].is_string()) return absl::InvalidArgumentError("config.json: hidden_act must be a string");
    c.hidden_act = j["hidden_act"].get<std::string>();
  }
  if (c.hidden_act != "gelu" && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh") {
    return absl::InvalidArgumentError(absl::StrCat("config.json: hidden_act \"", c.hidden_act,
                                                   "\" is not supported; use gelu, gelu_new or gelu_pytorch_tanh"));
  }
  if (c.hidden_size % c.num_attention_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("config.json: hidden_size ", c.hidden_size,
                                                   " is not a multiple of num_attention_heads ",
                                                   c.num_attention_heads));
  }
  if (c.pad_token_id >= c.vocab_size) {
    return absl::InvalidArgumentError("config.json: pad_token_id must be below vocab_size");
  }
  return c;
}

std::string BertConfigToJson(const BertConfig& c) {
  nlohmann::ordered_json j;
  j["architectures"] = {"BertForMaskedLM"};
  j["model_type"] = "bert";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["hidden_act"] = c.hidden_act;
  j["hidden_dropout_prob"] = c.hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = c.attention_probs_dropout_prob;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["type_vocab_size"] = c.type_vocab_size;
  j["layer_norm_eps"] = c.layer_norm_eps;
  j["pad_token_id"] = c.pad_token_id;
  j["initializer_range"] = 0.02;
  return j.dump(2) + "\n";
}

}  // namespace textclf::encoder
