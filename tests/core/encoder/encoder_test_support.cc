#include "tests/core/encoder/encoder_test_support.h"

#include <gtest/gtest.h>

namespace textclf::encoder::testing {

std::string MakeVocab(const std::vector<std::string>& words) {
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n,\n##s\n";
  for (const auto& w : words) vocab += w + "\n";
  return vocab;
}

std::unique_ptr<Encoder> TinyEncoder(const std::vector<std::string>& words, uint64_t seed, int layers, int hidden,
                                     int max_positions) {
  auto tokenizer = BertTokenizer::Create(MakeVocab(words));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  BertConfig config;
  config.vocab_size = tokenizer->vocab_size();
  config.hidden_size = hidden;
  config.num_hidden_layers = layers;
  config.num_attention_heads = 4;
  config.intermediate_size = 2 * hidden;
  config.max_position_embeddings = max_positions;
  auto encoder = Encoder::CreateRandom(config, std::move(*tokenizer), "cpu", seed, /*with_mlm_head=*/false);
  EXPECT_TRUE(encoder.ok()) << encoder.status();
  return std::move(*encoder);
}

}  // namespace textclf::encoder::testing
