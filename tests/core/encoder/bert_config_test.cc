#include "core/encoder/bert_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::encoder {
namespace {

using ::testing::HasSubstr;

TEST(BertConfig, ParsesBertBaseUncasedConfig) {
  const char* json = R"({"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": false, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
    "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
    "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "transformers_version": "4.6.0.dev0", "type_vocab_size": 2,
    "use_cache": true, "vocab_size": 30522})";
  auto c = ParseBertConfig(json);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->hidden_size, 768);
  EXPECT_EQ(c->num_hidden_layers, 12);
  EXPECT_EQ(c->head_size(), 64);
  EXPECT_DOUBLE_EQ(c->layer_norm_eps, 1e-12);
  EXPECT_FALSE(c->tanh_gelu());
}

TEST(BertConfig, RoundTripsThroughJson) {
  BertConfig c;
  c.vocab_size = 100;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 40;
  c.hidden_act = "gelu_new";
  auto back = ParseBertConfig(BertConfigToJson(c));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->vocab_size, 100);
  EXPECT_EQ(back->hidden_size, 32);
  EXPECT_EQ(back->num_attention_heads, 4);
  EXPECT_EQ(back->max_position_embeddings, 40);
  EXPECT_TRUE(back->tanh_gelu());
}

TEST(BertConfig, RejectsInconsistentValuesNamingTheField) {
  EXPECT_THAT(std::string(ParseBertConfig(R"({"hidden_size": 100, "num_attention_heads": 12})").status().message()),
              HasSubstr("num_attention_heads"));
  EXPECT_THAT(std::string(ParseBertConfig(R"({"model_type": "gpt2"})").status().message()), HasSubstr("gpt2"));
  EXPECT_THAT(std::string(ParseBertConfig(R"({"hidden_act": "relu"})").status().message()), HasSubstr("relu"));
  EXPECT_THAT(std::string(ParseBertConfig("not json").status().message()), HasSubstr("JSON"));
  EXPECT_THAT(std::string(ParseBertConfig(R"({"attention_probs_dropout_prob": 1.0})").status().message()),
              HasSubstr("attention_probs_dropout_prob must be below 1"));
}

// 2^32 heads was narrowed to 0 heads, and hidden_size % 0 killed the process with SIGFPE.
TEST(BertConfig, RejectsIntegersBeyondIntRange) {
  for (const char* json : {R"({"num_attention_heads": 4294967296})", R"({"vocab_size": 2147483648})",
                           R"({"hidden_size": 18446744073709551615})"}) {
    auto c = ParseBertConfig(json);
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("must be an integer from 1 to 2147483647"));
  }
}

}  // namespace
}  // namespace textclf::encoder
