// The promise end to end through the real server: pretrain a tiny BERT encoder
// (ENCODER_MLM) on unlabeled texts, then train X-Class from nothing but class names and those
// texts, naming the encoder by its registry name, and classify held-out texts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "core/common/files.h"
#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kClasses = {"sports", "cooking", "computing", "politics"};
// Each topic's words; its class name is one of them, as a topic's own name appears in its texts.
const std::vector<std::vector<std::string>> kTopics = {
    {"sports", "goal", "striker", "referee", "league", "match", "keeper", "penalty", "stadium", "coach"},
    {"cooking", "oven", "recipe", "garlic", "simmer", "butter", "flour", "sauce", "bake", "onion"},
    {"computing", "server", "kernel", "compiler", "database", "network", "memory", "thread", "cache", "packet"},
    {"politics", "senate", "election", "minister", "vote", "policy", "parliament", "treaty", "campaign", "cabinet"},
};
const std::vector<std::string> kFiller = {"the", "a", "with", "and", "after", "new", "big", "today", "was", "of"};

// Texts of 8-13 words, two thirds from the topic; labels kept only for scoring.
Labeled Corpus(int per_class, uint64_t seed, bool with_labels) {
  std::mt19937_64 rng(seed);
  Labeled out;
  for (int i = 0; i < per_class; ++i) {
    for (size_t c = 0; c < kTopics.size(); ++c) {
      std::string text;
      const int words = 8 + static_cast<int>(rng() % 6);
      for (int w = 0; w < words; ++w) {
        const auto& pool = rng() % 3 == 0 ? kFiller : kTopics[c];
        text += (text.empty() ? "" : " ") + pool[rng() % pool.size()];
      }
      out.Add(text + ".", with_labels ? kClasses[c] : "");
    }
  }
  return out;
}

std::string Vocabulary() {
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n,\n";
  for (const auto& topic : kTopics) {
    for (const auto& w : topic) vocab += w + "\n";
  }
  for (const auto& w : kFiller) vocab += w + "\n";
  return vocab;
}

// An encoder small enough to pretrain in seconds, and enough for these distinct topics.
v1::EncoderConfig TinyEncoder(const std::filesystem::path& vocab_file) {
  v1::EncoderConfig e;
  e.set_layers(2);
  e.set_hidden_size(64);
  e.set_heads(4);
  e.set_max_length(32);
  e.set_epochs(12);
  e.set_batch_size(32);
  e.set_learning_rate(2e-3);
  e.set_dropout(-1);
  e.set_device("cpu");
  e.set_vocab_file(vocab_file.string());
  return e;
}

TEST(XClassEndToEnd, ClassNamesAndUnlabeledTextsBecomeAServedClassifier) {
  TempDir root;
  ASSERT_TRUE(WriteFileDurably(root.path() / "vocab.txt", Vocabulary()).ok());
  // The vocabulary is a file on the server: allowed under the import folder only.
  auto server = TestServer::Start(root.path() / "models",
                                  [&](v1::ServerConfig& c) { c.set_import_dir(root.path().string()); });
  ASSERT_NE(server, nullptr);
  const Labeled unlabeled = Corpus(150, 1, /*with_labels=*/false);

  // 1. The encoder, pretrained on the unlabeled texts.
  v1::TrainStart mlm;
  mlm.set_model("tiny-bert");
  mlm.set_family(v1::ENCODER_MLM);
  *mlm.mutable_config()->mutable_encoder() = TinyEncoder(root.path() / "vocab.txt");
  TrainCall pretrain = Train(server->stub(), mlm, unlabeled);
  ASSERT_TRUE(pretrain.status.ok()) << Describe(pretrain.status);
  EXPECT_EQ(pretrain.result.model().family(), v1::ENCODER_MLM);
  std::set<std::string> stages;
  for (const auto& p : pretrain.progress) stages.insert(p.stage());
  EXPECT_TRUE(stages.contains("pretrain"));
  // An encoder answers Classify with what to do instead.
  ClassifyCall refused = Classify(server->stub(), "tiny-bert", {"goal"});
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("XCLASS"));

  // 2. X-Class: class names, the same unlabeled texts, the encoder by name; labelled held-out
  // texts only as the EVAL split.
  v1::TrainStart xclass;
  xclass.set_model("topics");
  xclass.set_family(v1::XCLASS);
  for (const auto& c : kClasses) xclass.add_class_names(c);
  v1::XClassConfig* x = xclass.mutable_config()->mutable_xclass();
  x->set_encoder_model("tiny-bert");
  x->set_device("cpu");
  const Labeled held_out = Corpus(50, 2, /*with_labels=*/true);
  TrainCall train = Train(server->stub(), xclass, unlabeled, held_out);
  ASSERT_TRUE(train.status.ok()) << Describe(train.status);
  stages.clear();
  for (const auto& p : train.progress) stages.insert(p.stage());
  for (const char* stage : {"encode", "classes", "documents", "align", "select", "final", "publish"}) {
    EXPECT_TRUE(stages.contains(stage)) << stage;
  }
  ASSERT_TRUE(train.result.has_eval_metrics());
  EXPECT_GE(train.result.eval_metrics().accuracy(), 0.9);

  // 3. The version is self-contained: it carries its own copy of the encoder.
  auto info = GetModel(server->stub(), "topics");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  const auto files = ReadTree(root.path() / "models" / "topics" / "1");
  EXPECT_TRUE(files.contains("encoder/model.safetensors"));
  EXPECT_TRUE(files.contains("encoder/vocab.txt"));
  EXPECT_TRUE(files.contains("head.safetensors"));

  ClassifyCall answer = Classify(server->stub(), "topics",
                                 {"the striker scored a penalty in the stadium", "garlic butter sauce in the oven",
                                  "the kernel cache and the network thread", "the senate vote on the treaty"});
  ASSERT_TRUE(answer.status.ok()) << Describe(answer.status);
  ASSERT_EQ(answer.response.predictions_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(answer.response.predictions(i).label(), kClasses[static_cast<size_t>(i)]);
}

// The one-call path: class names and unlabeled texts, no encoder named. X-Class pretrains one on
// those texts first and keeps it in the version.
TEST(XClassEndToEnd, PretrainsAnEncoderWhenNoneIsNamed) {
  TempDir root;
  ASSERT_TRUE(WriteFileDurably(root.path() / "vocab.txt", Vocabulary()).ok());
  // The vocabulary is a file on the server: allowed under the import folder only.
  auto server = TestServer::Start(root.path() / "models",
                                  [&](v1::ServerConfig& c) { c.set_import_dir(root.path().string()); });
  ASSERT_NE(server, nullptr);
  v1::TrainStart xclass;
  xclass.set_model("topics");
  xclass.set_family(v1::XCLASS);
  for (const auto& c : kClasses) xclass.add_class_names(c);
  v1::XClassConfig* x = xclass.mutable_config()->mutable_xclass();
  x->set_device("cpu");
  *x->mutable_pretrain_encoder() = TinyEncoder(root.path() / "vocab.txt");
  TrainCall train = Train(server->stub(), xclass, Corpus(150, 1, /*with_labels=*/false), Corpus(50, 2, true));
  ASSERT_TRUE(train.status.ok()) << Describe(train.status);
  std::vector<std::string> order;
  double last = 0;
  for (const auto& p : train.progress) {
    if (order.empty() || order.back() != p.stage()) order.push_back(p.stage());
    EXPECT_GE(p.fraction(), last - 1e-9) << "progress never goes back (" << p.stage() << ")";
    last = p.fraction();
  }
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.front(), "pretrain");
  EXPECT_NE(std::find(order.begin(), order.end(), "final"), order.end());
  ASSERT_TRUE(train.result.has_eval_metrics());
  EXPECT_GE(train.result.eval_metrics().accuracy(), 0.9);

  const auto files = ReadTree(root.path() / "models" / "topics" / "1");
  EXPECT_TRUE(files.contains("encoder/model.safetensors"));
  ASSERT_TRUE(files.contains("manifest.json"));
  EXPECT_THAT(files.at("manifest.json"), HasSubstr("pretrained on these 600 documents"));
  EXPECT_THAT(files.at("manifest.json"), HasSubstr("pretrained_encoder"));
}

TEST(XClassEndToEnd, ExplainsAnUnknownEncoder) {
  TempDir root;
  auto server = TestServer::Start(root.path());
  ASSERT_NE(server, nullptr);
  v1::TrainStart xclass;
  xclass.set_model("topics");
  xclass.set_family(v1::XCLASS);
  for (const auto& c : kClasses) xclass.add_class_names(c);
  xclass.mutable_config()->mutable_xclass()->set_encoder_model("no-such-encoder");
  TrainCall train = Train(server->stub(), xclass, Corpus(5, 1, false));
  EXPECT_EQ(train.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(train.status);
  EXPECT_THAT(train.status.error_message(), HasSubstr("no-such-encoder"));
}

}  // namespace
}  // namespace textclf::testing
