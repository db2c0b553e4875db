#include "tests/core/registry/registry_test_support.h"

#include <gtest/gtest.h>

#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/word_count_family.h"

namespace textclf::registry {

v1::Manifest PublishSmallModel(Repository& repository, const std::string& name, uint64_t seed) {
  auto corpus = testing::MakeTopicCorpus(2, 100, seed);
  TrainingSet data = testing::AsTrainingSet(corpus);
  v1::TrainStart start;
  start.set_model(name);
  start.set_family(testing::kWordCountFamilyId);
  ThreadPool pool(1);
  CancellationToken cancel;
  TrainContext ctx;
  ctx.pool = &pool;
  ctx.cancel = &cancel;
  ctx.output_dir = *repository.CreateStagingDir(name);
  auto manifest = testing::WordCountFamily()->train(start, data, ctx);
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  auto published = repository.Publish(ctx.output_dir, name, *manifest);
  EXPECT_TRUE(published.ok()) << published.status();
  return *published;
}

absl::StatusOr<v1::Manifest> PublishBareVersion(Repository& repository, const std::string& name) {
  absl::StatusOr<std::filesystem::path> staging = repository.CreateStagingDir(name);
  if (!staging.ok()) return staging.status();
  if (absl::Status s = WriteFileDurably(*staging / "weights.bin", "w"); !s.ok()) return s;
  v1::Manifest manifest;
  manifest.set_family(v1::ZEST);
  auto published = repository.Publish(*staging, name, manifest);
  repository.DiscardStagingDir(*staging);
  return published;
}

}  // namespace textclf::registry
