// Loading a Zest model checks the stored state that scoring indexes with: an edited manifest
// fails the load with a message instead of reading out of bounds at the first request.
#include "core/zest/zest_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/zest/zest_trainer.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"

namespace textclf::zest {
namespace {

using ::testing::HasSubstr;

class ZestModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const testing::SyntheticCorpus corpus = testing::MakeTopicCorpus(2, 100, 3);
    TrainingSet data = testing::AsTrainingSet(corpus);
    v1::TrainStart start;
    start.set_model("m");
    start.set_family(v1::ZEST);
    TrainContext ctx;
    ctx.pool = &pool_;
    ctx.cancel = &cancel_;
    ctx.output_dir = dir_.path();
    auto manifest = Train(start, data, ctx);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    manifest_ = *manifest;
    ASSERT_EQ(manifest_.zest().resolved().mode(), v1::ZestConfig::BINARY);
    for (const auto& cls : manifest_.zest().classes()) {
      for (const auto& d : cls.dictionaries()) files_.contents[d.file()] = *ReadFile(dir_.path() / d.file());
    }
  }

  // Loads an edited copy of the trained manifest and expects DATA_LOSS mentioning `problem`.
  void ExpectRefused(const std::function<void(v1::Manifest&)>& edit, const std::string& problem) {
    v1::Manifest edited = manifest_;
    edit(edited);
    auto model = ZestModel::Load(edited, files_);
    EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss) << model.status();
    EXPECT_THAT(model.status().message(), HasSubstr(problem));
  }

  ThreadPool pool_{1};
  CancellationToken cancel_;
  testing::TempDir dir_;
  v1::Manifest manifest_;
  ModelFiles files_;
};

TEST_F(ZestModelTest, TheTrainedStateLoads) { EXPECT_TRUE(ZestModel::Load(manifest_, files_).ok()); }

TEST_F(ZestModelTest, RefusesAPositiveClassIndexOutsideTheBinaryClasses) {
  for (int index : {2, -1, 1 << 30}) {
    ExpectRefused([&](v1::Manifest& m) { m.mutable_zest()->set_positive_class_index(index); },
                  "positive_class_index");
  }
}

TEST_F(ZestModelTest, RefusesABinaryModeWithMoreThanTwoClasses) {
  ExpectRefused(
      [](v1::Manifest& m) {
        m.add_classes("third");
        *m.mutable_zest()->add_classes() = m.zest().classes(0);
      },
      "BINARY");
}

TEST_F(ZestModelTest, RefusesScoringParametersOutOfRange) {
  ExpectRefused([](v1::Manifest& m) { m.mutable_zest()->mutable_resolved()->set_repetitions(1 << 20); },
                "repetitions");
  ExpectRefused([](v1::Manifest& m) { m.mutable_zest()->mutable_resolved()->set_level(1000); }, "level");
  ExpectRefused([](v1::Manifest& m) { m.mutable_zest()->set_temperature(0); }, "temperature");
  ExpectRefused([](v1::Manifest& m) { m.mutable_zest()->set_temperature(std::numeric_limits<double>::infinity()); },
                "temperature");
  ExpectRefused([](v1::Manifest& m) { m.mutable_zest()->mutable_classes()->RemoveLast(); }, "dictionary sets");
}

}  // namespace
}  // namespace textclf::zest
