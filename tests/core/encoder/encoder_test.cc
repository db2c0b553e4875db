// Checkpoints (save, load, key prefixes, missing and unexpected weights) and the word-level
// encoding with chunks, through the libtorch-free API.
#include "core/encoder/encoder.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoder/safetensors.h"
#include "core/encoder/word_encoding.h"
#include "tests/core/encoder/encoder_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::encoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<std::string> kWords = {"goal", "match", "vote", "law", "oven", "bake", "the", "a", "un", "##der"};

std::vector<float> Pooled(const Encoder& e, const std::vector<std::string>& texts, EncodingOptions options = {}) {
  std::vector<float> out;
  const absl::Status s = MeanPooledFeatures(e, Views(texts), options, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Rewrites a checkpoint's weights with renamed (or dropped, or extra) tensors.
std::string Rename(const std::string& weights, const std::function<std::string(const std::string&)>& rename,
                   bool add_extra = false) {
  auto reader = SafetensorsReader::Parse(weights);
  EXPECT_TRUE(reader.ok());
  std::vector<std::vector<float>> values;
  std::vector<SafeTensorToWrite> tensors;
  for (const auto& t : reader->tensors()) values.push_back(ToFloat32(t));
  size_t i = 0;
  for (const auto& t : reader->tensors()) {
    const std::string name = rename(t.name);
    if (!name.empty()) tensors.push_back({name, t.shape, values[i], SafeDType::kF16});
    ++i;
  }
  const std::vector<float> extra = {1, 2};
  if (add_extra) tensors.push_back({"bert.encoder.layer.7.output.dense.bias", {2}, extra});
  return *WriteSafetensors(tensors);
}

TEST(Encoder, SavesAndLoadsTheSameWeights) {
  auto e = testing::TinyEncoder(kWords);
  auto files = e->Save();
  ASSERT_TRUE(files.ok()) << files.status();
  auto reader = SafetensorsReader::Parse(files->weights);
  ASSERT_TRUE(reader.ok());
  EXPECT_NE(reader->Find("bert.embeddings.word_embeddings.weight"), nullptr);
  EXPECT_NE(reader->Find("bert.encoder.layer.1.attention.self.query.weight"), nullptr);
  EXPECT_NE(reader->Find("bert.encoder.layer.0.output.LayerNorm.bias"), nullptr);

  ::textclf::testing::TempDir dir;
  ASSERT_TRUE(WriteCheckpointFolder(dir.path() / "enc", *files).ok());
  auto read = ReadCheckpointFolder(dir.path() / "enc");
  ASSERT_TRUE(read.ok()) << read.status();
  auto loaded = Encoder::Load(*read, "cpu");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->parameter_count(), e->parameter_count());
  const std::vector<std::string> texts = {"the goal match", "vote law oven bake"};
  EXPECT_EQ(Pooled(**loaded, texts), Pooled(*e, texts));
}

TEST(Encoder, AcceptsUnprefixedNamesAndGammaBeta) {
  auto e = testing::TinyEncoder(kWords);
  CheckpointFiles files = *e->Save();
  files.weights = Rename(files.weights, [](const std::string& name) {
    std::string n = name.substr(5);  // drop "bert."
    if (n.ends_with("LayerNorm.weight")) n = n.substr(0, n.size() - 6) + "gamma";
    if (n.ends_with("LayerNorm.bias")) n = n.substr(0, n.size() - 4) + "beta";
    return n;
  });
  auto loaded = Encoder::Load(files, "cpu");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  // Stored as F16, so equal up to half precision.
  const std::vector<std::string> texts = {"the goal match"};
  const auto a = Pooled(**loaded, texts);
  const auto b = Pooled(*e, texts);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 2e-2);
}

TEST(Encoder, NamesMissingAndUnexpectedWeights) {
  auto e = testing::TinyEncoder(kWords);
  CheckpointFiles files = *e->Save();
  files.weights = Rename(
      files.weights,
      [](const std::string& name) { return name == "bert.encoder.layer.1.intermediate.dense.weight" ? "" : name; },
      /*add_extra=*/true);
  auto loaded = Encoder::Load(files, "cpu");
  ASSERT_FALSE(loaded.ok());
  const std::string message(loaded.status().message());
  EXPECT_THAT(message, HasSubstr("missing encoder.layer.1.intermediate.dense.weight"));
  EXPECT_THAT(message, HasSubstr("unexpected bert.encoder.layer.7.output.dense.bias"));
}

TEST(Encoder, RejectsShapeAndVocabularyMismatches) {
  auto e = testing::TinyEncoder(kWords);
  CheckpointFiles files = *e->Save();
  CheckpointFiles wider = files;
  wider.config_json.replace(wider.config_json.find("\"hidden_size\": 32"), 17, "\"hidden_size\": 48");
  auto loaded = Encoder::Load(wider, "cpu");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("has shape"));
  CheckpointFiles fewer = files;
  fewer.vocab += "extra\n";
  EXPECT_THAT(std::string(Encoder::Load(fewer, "cpu").status().message()), HasSubstr("vocab_size"));
  EXPECT_THAT(std::string(ReadCheckpointFolder("/nonexistent/encoder").status().message()), HasSubstr("does not exist"));
}

TEST(Encoder, RefusesAConfigLargerThanItsWeightsBeforeAllocatingIt) {
  CheckpointFiles files = *testing::TinyEncoder(kWords)->Save();
  // 2^20 wide: terabytes of parameters, were they allocated before the weights were compared.
  files.config_json.replace(files.config_json.find("\"hidden_size\": 32"), 17, "\"hidden_size\": 1048576");
  auto loaded = Encoder::Load(files, "cpu");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("parameters, but model.safetensors has only"));
}

TEST(Encoder, RefusesADeviceItDoesNotHave) {
  EXPECT_EQ(*ResolveDevice("cpu"), "cpu");
  EXPECT_THAT(std::string(ResolveDevice("tpu").status().message()), HasSubstr("unknown device"));
}

TEST(WordEncoding, AveragesPiecesPerWord) {
  auto e = testing::TinyEncoder(kWords);
  std::vector<EncodedDocument> docs(1);
  const std::vector<std::string> texts = {"the under goal."};
  ASSERT_TRUE(EncodeWords(*e, Views(texts), {}, [&](size_t i, EncodedDocument d) { docs[i] = std::move(d); }).ok());
  EXPECT_THAT(docs[0].words, ElementsAre("the", "under", "goal", "."));
  ASSERT_EQ(docs[0].vectors.size(), 4u * 32u);
  // The mean of the word vectors weighted by their pieces is the mean over all pieces.
  const auto pooled = Pooled(*e, texts);
  for (int h = 0; h < 32; ++h) {
    const float weighted = (docs[0].vectors[h] + 2 * docs[0].vectors[32 + h] + docs[0].vectors[64 + h] +
                            docs[0].vectors[96 + h]) / 5;
    EXPECT_NEAR(weighted, pooled[static_cast<size_t>(h)], 1e-5);
  }
}

TEST(WordEncoding, ChunksLongDocumentsAndKeepsEveryWord) {
  auto e = testing::TinyEncoder(kWords);
  std::string long_text;
  for (int i = 0; i < 30; ++i) long_text += (i % 2 ? "goal " : "vote ");
  EncodingOptions options;
  options.max_length = 12;  // 10 pieces per sequence: three sequences
  std::vector<EncodedDocument> docs(2);
  const std::vector<std::string> texts = {long_text, "vote goal vote goal vote goal vote goal vote goal"};
  ASSERT_TRUE(EncodeWords(*e, Views(texts), options, [&](size_t i, EncodedDocument d) { docs[i] = std::move(d); }).ok());
  ASSERT_EQ(docs[0].words.size(), 30u);
  // The first chunk of the long document is exactly the short document.
  for (size_t k = 0; k < 10 * 32; ++k) EXPECT_NEAR(docs[0].vectors[k], docs[1].vectors[k], 1e-5);
  // Truncation keeps only the first chunk's words.
  options.truncate = true;
  ASSERT_TRUE(EncodeWords(*e, Views(texts), options, [&](size_t i, EncodedDocument d) { docs[i] = std::move(d); }).ok());
  EXPECT_EQ(docs[0].words.size(), 10u);
}

TEST(WordEncoding, BatchingDoesNotChangeResults) {
  auto e = testing::TinyEncoder(kWords);
  const std::vector<std::string> texts = {"goal", "the vote law oven bake the a goal match law", "a match", ""};
  EncodingOptions one_at_a_time;
  one_at_a_time.batch_tokens = 1;
  const auto batched = Pooled(*e, texts);
  const auto single = Pooled(*e, texts, one_at_a_time);
  ASSERT_EQ(batched.size(), single.size());
  for (size_t i = 0; i < batched.size(); ++i) EXPECT_NEAR(batched[i], single[i], 1e-5);
  for (size_t h = 96; h < 128; ++h) EXPECT_EQ(batched[h], 0.f) << "an empty text pools to zeros";
}

TEST(WordEncoding, ReportsTheAttentionEachWordReceives) {
  auto e = testing::TinyEncoder(kWords);
  EncodingOptions options;
  options.attention = true;
  EncodedDocument doc;
  const std::vector<std::string> texts = {"the goal match"};
  ASSERT_TRUE(EncodeWords(*e, Views(texts), options, [&](size_t, EncodedDocument d) { doc = std::move(d); }).ok());
  ASSERT_EQ(doc.attention.size(), 3u);
  float total = 0;
  for (float a : doc.attention) {
    EXPECT_GT(a, 0.f);
    total += a;
  }
  EXPECT_LT(total, 1.f) << "[CLS] and [SEP] receive the rest";
}

}  // namespace
}  // namespace textclf::encoder
