#include "core/encoder/mlm_pretrainer.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "core/common/thread_pool.h"
#include "tests/core/encoder/encoder_test_support.h"

namespace textclf::encoder {
namespace {

TEST(MlmPretrainer, LearnsAStructuredCorpusAndCanBeCancelled) {
  // Two topics; inside a sentence the words of one topic follow each other, so a masked word is
  // predictable from its neighbours.
  const std::vector<std::vector<std::string>> topics = {{"goal", "match", "league", "coach"},
                                                        {"oven", "bake", "flour", "sauce"}};
  std::vector<std::string> words;
  for (const auto& t : topics) words.insert(words.end(), t.begin(), t.end());
  std::mt19937 rng(3);
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) {
    const auto& topic = topics[static_cast<size_t>(i % 2)];
    std::string text;
    for (int w = 0; w < 8; ++w) text += topic[rng() % topic.size()] + " ";
    texts.push_back(text);
  }
  BertConfig config;
  auto tokenizer = BertTokenizer::Create(testing::MakeVocab(words));
  ASSERT_TRUE(tokenizer.ok());
  config.vocab_size = tokenizer->vocab_size();
  config.hidden_size = 32;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 2;
  config.intermediate_size = 64;
  config.max_position_embeddings = 16;
  config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0;
  auto encoder = Encoder::CreateRandom(config, *tokenizer, "cpu", 7, /*with_mlm_head=*/true);
  ASSERT_TRUE(encoder.ok()) << encoder.status();

  v1::EncoderConfig c;
  c.set_max_length(16);
  c.set_epochs(6);
  c.set_batch_size(16);
  c.set_learning_rate(3e-3);
  c.set_warmup_fraction(0.05);
  c.set_mask_probability(0.15);
  c.set_seed(5);
  ThreadPool pool(1);
  CancellationToken cancel;
  TrainContext ctx;
  ctx.pool = &pool;
  ctx.cancel = &cancel;
  int reports = 0;
  ctx.progress = [&](std::string_view stage, double fraction, std::string_view) {
    if (stage == "pretrain") ++reports;
    EXPECT_GE(fraction, 0.0);
    EXPECT_LE(fraction, 1.0);
  };
  auto result = PretrainMlm(**encoder, texts, c, ctx);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->steps, 6 * 25);
  EXPECT_EQ(result->sequences, 6 * 400);
  EXPECT_GT(reports, 5);
  // Chance is ln(vocabulary) = ln(16) = 2.77 nats; a topic's 4 words leave ln(4) = 1.39.
  EXPECT_LT(result->final_loss, 1.7) << "the masked words of a topic should be predictable";
  EXPECT_GT(result->masked_accuracy, 0.2);

  // A time budget shortens a schedule far longer than the budget, and the run ends near it
  // (within one re-estimate; the slack is for loaded machines, not a speed requirement).
  v1::EncoderConfig budgeted = c;
  budgeted.set_epochs(100000);
  budgeted.set_max_seconds(1.5);
  auto short_run = PretrainMlm(**encoder, texts, budgeted, ctx);
  ASSERT_TRUE(short_run.ok()) << short_run.status();
  EXPECT_LT(short_run->steps, int64_t{100000} * 25);
  EXPECT_GE(short_run->steps, 10);
  EXPECT_LT(short_run->seconds, 30.0);

  cancel.Cancel();
  auto cancelled = PretrainMlm(**encoder, texts, c, ctx);
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace textclf::encoder
