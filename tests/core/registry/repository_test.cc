#include "core/registry/repository.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "core/common/files.h"
#include "core/common/proto_json.h"
#include "tests/core/registry/registry_test_support.h"
#include "tests/support/word_count_family.h"
#include "tests/support/test_support.h"

namespace textclf::registry {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Runs `fn` on a thread. If it is still running after 10 s, it is blocked on the FIFO: the test
// fails, and opening the FIFO for writing lets it return.
template <typename Fn>
auto WithoutBlockingOn(const fs::path& fifo, Fn fn) {
  auto result = std::async(std::launch::async, fn);
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "blocked reading the FIFO " << fifo;
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
  return result.get();
}

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(repo_.Initialize().ok()); }
  testing::TempDir dir_;
  Repository repo_{dir_.path() / "models"};
};

TEST_F(RepositoryTest, PublishesIncreasingVersions) {
  v1::Manifest first = PublishSmallModel(repo_, "news");
  v1::Manifest second = PublishSmallModel(repo_, "news", 2);
  EXPECT_EQ(first.version(), 1);
  EXPECT_EQ(second.version(), 2);
  EXPECT_EQ(*repo_.ListVersions("news"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(*repo_.ListModels(), (std::vector<std::string>{"news"}));
  EXPECT_TRUE(fs::is_empty(dir_.path() / "models" / ".staging"));
}

TEST_F(RepositoryTest, ManifestRoundTripsThroughJsonOnDisk) {
  v1::Manifest published = PublishSmallModel(repo_, "news");
  auto read = repo_.ReadManifest("news", 1);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->SerializeAsString(), published.SerializeAsString());
  EXPECT_EQ(read->family(), testing::kWordCountFamilyId);
  EXPECT_GT(read->files_size(), 0);
  for (const auto& f : read->files()) {
    EXPECT_EQ(f.sha256().size(), 64u);
    EXPECT_EQ(fs::file_size(repo_.VersionDir("news", 1) / f.path()), f.size_bytes());
  }
}

TEST_F(RepositoryTest, VerifiedFilesMatchTheirChecksums) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  auto files = repo_.ReadVerifiedFiles(m);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->contents.size(), static_cast<size_t>(m.files_size()));
}

TEST_F(RepositoryTest, ACorruptFileIsDataLossNamingTheFile) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  const fs::path victim = repo_.VersionDir("news", 1) / m.files(0).path();
  std::string content = *ReadFile(victim);
  content[content.size() / 2] ^= 0x55;
  ASSERT_TRUE(WriteFileDurably(victim, content).ok());
  auto files = repo_.ReadVerifiedFiles(m);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(files.status().message().find(m.files(0).path()), std::string_view::npos);
  EXPECT_NE(files.status().message().find("corrupt"), std::string_view::npos);
}

TEST_F(RepositoryTest, ATruncatedOrMissingFileIsDataLoss) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  const fs::path victim = repo_.VersionDir("news", 1) / m.files(0).path();
  fs::resize_file(victim, 10);
  auto truncated = repo_.ReadVerifiedFiles(m);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string_view::npos);
  fs::remove(victim);
  auto missing = repo_.ReadVerifiedFiles(m);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(missing.status().message().find("missing"), std::string_view::npos);
}

TEST_F(RepositoryTest, InitializeRemovesInterruptedPublishes) {
  auto staging = repo_.CreateStagingDir("news");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(WriteFileDurably(*staging / "half.bin", "x").ok());
  Repository again(dir_.path() / "models");
  ASSERT_TRUE(again.Initialize().ok());
  EXPECT_FALSE(fs::exists(*staging));
  EXPECT_EQ(again.ListModels()->size(), 0u);
}

TEST_F(RepositoryTest, AFolderWithoutManifestIsNotAVersion) {
  fs::create_directories(dir_.path() / "models" / "news" / "1");
  EXPECT_TRUE(repo_.ListVersions("news")->empty());
  EXPECT_TRUE(repo_.ListModels()->empty());
}

TEST_F(RepositoryTest, DeleteRemovesTheVersionAndThenTheModel) {
  PublishSmallModel(repo_, "news");
  PublishSmallModel(repo_, "news", 2);
  ASSERT_TRUE(repo_.DeleteVersion("news", 1).ok());
  EXPECT_EQ(*repo_.ListVersions("news"), (std::vector<int64_t>{2}));
  EXPECT_FALSE(fs::exists(repo_.VersionDir("news", 1)));
  ASSERT_TRUE(repo_.DeleteVersion("news", 2).ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "models" / "news"));
  EXPECT_EQ(repo_.DeleteVersion("news", 2).code(), absl::StatusCode::kNotFound);
}

TEST_F(RepositoryTest, RecordsMetricsBesideTheImmutableManifest) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  v1::EvalMetrics metrics;
  metrics.set_dataset("holdout");
  metrics.set_accuracy(0.9);
  ASSERT_TRUE(repo_.RecordMetrics("news", 1, metrics).ok());
  metrics.set_dataset("other");
  ASSERT_TRUE(repo_.RecordMetrics("news", 1, metrics).ok());
  auto record = repo_.ReadMetrics("news", 1);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->by_dataset().size(), 2u);
  EXPECT_DOUBLE_EQ(record->by_dataset().at("holdout").accuracy(), 0.9);
  EXPECT_EQ(repo_.ReadManifest("news", 1)->SerializeAsString(), m.SerializeAsString());
  EXPECT_EQ(repo_.RecordMetrics("news", 7, metrics).code(), absl::StatusCode::kNotFound);
}

TEST_F(RepositoryTest, RejectsUnsafeModelNames) {
  for (const char* name : {"", "../x", "a/b", ".hidden", "-x", "a b"}) {
    EXPECT_EQ(ValidateModelName(name).code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(ValidateModelName("news-v2.1_b").ok());
  EXPECT_EQ(repo_.ReadManifest("../etc", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RepositoryTest, UnknownModelsAndVersionsAreNotFound) {
  EXPECT_EQ(repo_.ListVersions("nope").status().code(), absl::StatusCode::kNotFound);
  PublishSmallModel(repo_, "news");
  EXPECT_EQ(repo_.ReadManifest("news", 9).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RepositoryTest, VersionNumbersNeverComeBackAfterADelete) {
  ASSERT_EQ(PublishBareVersion(repo_, "news")->version(), 1);
  ASSERT_EQ(PublishBareVersion(repo_, "news")->version(), 2);
  ASSERT_TRUE(repo_.DeleteVersion("news", 2).ok());
  EXPECT_EQ(PublishBareVersion(repo_, "news")->version(), 3);
  ASSERT_TRUE(repo_.DeleteVersion("news", 1).ok());
  ASSERT_TRUE(repo_.DeleteVersion("news", 3).ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "models" / "news"));
  EXPECT_EQ(PublishBareVersion(repo_, "news")->version(), 4) << "deleting every version kept the mark";
  // A restarted server (a new Repository, Initialize()d) remembers it too.
  ASSERT_TRUE(repo_.DeleteVersion("news", 4).ok());
  Repository restarted(dir_.path() / "models");
  ASSERT_TRUE(restarted.Initialize().ok());
  EXPECT_EQ(PublishBareVersion(restarted, "news")->version(), 5);
  EXPECT_EQ(PublishBareVersion(restarted, "other")->version(), 1);
  EXPECT_EQ(*restarted.ListModels(), (std::vector<std::string>{"news", "other"}));
}

TEST_F(RepositoryTest, VersionsPublishedBeforeTheMarkExistedAreNotReusedEither) {
  ASSERT_TRUE(PublishBareVersion(repo_, "news").ok());
  ASSERT_TRUE(PublishBareVersion(repo_, "news").ok());
  // A repository of an earlier release has folders and no mark.
  fs::remove_all(dir_.path() / "models" / kVersionsFolder);
  ASSERT_TRUE(repo_.DeleteVersion("news", 2).ok());
  EXPECT_EQ(PublishBareVersion(repo_, "news")->version(), 3);
}

TEST_F(RepositoryTest, ProcessesSharingTheRepositoryNeverGetTheSameNumber) {
  // Each thread holds its own Repository of the same root, as separate processes do: only the
  // lock on disk keeps them apart. Deletes of the newest version run meanwhile.
  constexpr int kWriters = 4, kEach = 25;
  std::vector<std::vector<int64_t>> got(kWriters);
  std::atomic<bool> done{false};
  std::thread deleter([&] {
    Repository mine(dir_.path() / "models");
    while (!done) {
      if (auto versions = mine.ListVersions("news"); versions.ok() && !versions->empty()) {
        (void)mine.DeleteVersion("news", versions->back());
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Repository mine(dir_.path() / "models");
      for (int i = 0; i < kEach; ++i) {
        auto published = PublishBareVersion(mine, "news");
        ASSERT_TRUE(published.ok()) << published.status();
        got[w].push_back(published->version());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  deleter.join();
  std::set<int64_t> all;
  for (const auto& versions : got) {
    EXPECT_TRUE(std::is_sorted(versions.begin(), versions.end()));
    all.insert(versions.begin(), versions.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kEach)) << "a version number was handed out twice";
}

TEST_F(RepositoryTest, DeletingTheLastVersionNeverFailsAPublishRacingIt) {
  std::atomic<bool> done{false};
  std::thread deleter([&] {
    Repository other(dir_.path() / "models");
    while (!done) {
      if (auto versions = other.ListVersions("news"); versions.ok()) {
        for (int64_t v : *versions) (void)other.DeleteVersion("news", v);
      }
    }
  });
  int failures = 0;
  std::string first_failure;
  for (int i = 0; i < 200; ++i) {
    auto published = PublishBareVersion(repo_, "news");
    if (!published.ok() && failures++ == 0) first_failure = published.status().ToString();
  }
  done = true;
  deleter.join();
  EXPECT_EQ(failures, 0) << first_failure;
}

TEST_F(RepositoryTest, EnsureLayoutLeavesAnotherProcesssPublishAlone) {
  auto staging = repo_.CreateStagingDir("news");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(WriteFileDurably(*staging / "half.bin", "x").ok());
  Repository tool(dir_.path() / "models");
  ASSERT_TRUE(tool.EnsureLayout().ok());
  EXPECT_TRUE(fs::exists(*staging / "half.bin"));
  auto published = PublishBareVersion(tool, "imported");
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(fs::exists(*staging / "half.bin"));
}

TEST_F(RepositoryTest, ManifestPathsOutsideTheVersionFolderAreRefusedBeforeAnyRead) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  ASSERT_TRUE(WriteFileDurably(dir_.path() / "secret", "secret").ok());
  for (const std::string& path : std::vector<std::string>{"../../secret", (dir_.path() / "secret").string(), "dicts//x", "./x", ""}) {
    v1::Manifest edited = m;
    edited.mutable_files(0)->set_path(path);
    auto files = repo_.ReadVerifiedFiles(edited);
    EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument) << path << ": " << files.status();
    EXPECT_THAT(files.status().message(), HasSubstr("relative paths inside the version folder"));
  }
  v1::Manifest twice = m;
  *twice.add_files() = m.files(0);
  EXPECT_EQ(repo_.ReadVerifiedFiles(twice).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RepositoryTest, AFifoListedAsAModelFileIsDataLossWithoutBlocking) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  const fs::path victim = repo_.VersionDir("news", 1) / m.files(0).path();
  fs::remove(victim);
  ASSERT_EQ(::mkfifo(victim.c_str(), 0644), 0);
  absl::Status s = WithoutBlockingOn(victim, [&] { return repo_.ReadVerifiedFiles(m).status(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr(m.files(0).path()));
  EXPECT_THAT(s.message(), HasSubstr("not a regular file"));
  // A FIFO in place of the manifest or the metrics blocks nothing either.
  const fs::path manifest = repo_.VersionDir("news", 1) / kManifestFile;
  const fs::path metrics = repo_.VersionDir("news", 1) / kMetricsFile;
  fs::remove(manifest);
  ASSERT_EQ(::mkfifo(manifest.c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo(metrics.c_str(), 0644), 0);
  EXPECT_EQ(WithoutBlockingOn(manifest, [&] { return repo_.ReadManifest("news", 1).status(); }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_FALSE(WithoutBlockingOn(metrics, [&] { return repo_.ReadMetrics("news", 1).status(); }).ok());
}

TEST_F(RepositoryTest, ALinkListedAsAModelFileIsNotFollowed) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  const fs::path victim = repo_.VersionDir("news", 1) / m.files(0).path();
  const fs::path elsewhere = dir_.path() / "elsewhere.bin";
  fs::rename(victim, elsewhere);
  fs::create_symlink(elsewhere, victim);
  auto files = repo_.ReadVerifiedFiles(m);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(files.status().message(), HasSubstr("not a regular file"));
}

TEST_F(RepositoryTest, AFileGrownPastItsManifestSizeIsRefusedUnread) {
  v1::Manifest m = PublishSmallModel(repo_, "news");
  const fs::path victim = repo_.VersionDir("news", 1) / m.files(0).path();
  fs::resize_file(victim, uint64_t{1} << 40);  // sparse: a terabyte that was never written
  auto files = repo_.ReadVerifiedFiles(m);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(files.status().message(), HasSubstr("1099511627776 bytes, the manifest says"));
}

TEST_F(RepositoryTest, RecordMetricsRefusesUnboundedDatasetNames) {
  PublishSmallModel(repo_, "news");
  v1::EvalMetrics metrics;
  for (const std::string& name : std::vector<std::string>{std::string(8 << 20, 'd'), std::string("a b"), std::string("../x")}) {
    metrics.set_dataset(name);
    absl::Status s = repo_.RecordMetrics("news", 1, metrics);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_LT(s.message().size(), 300u);
  }
  EXPECT_FALSE(fs::exists(repo_.VersionDir("news", 1) / kMetricsFile));
  metrics.set_dataset("holdout");
  EXPECT_EQ(repo_.RecordMetrics(std::string(200, 'n'), 1, metrics).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RepositoryTest, MetricsKeepTheMostRecentlyEvaluatedDatasets) {
  PublishSmallModel(repo_, "news");
  const int total = kMaxDatasetsPerVersion + 4;
  for (int i = 0; i < total; ++i) {
    v1::EvalMetrics metrics;
    metrics.set_dataset("set" + std::to_string(i));
    metrics.mutable_evaluated_at()->set_seconds(1000 + i);
    ASSERT_TRUE(repo_.RecordMetrics("news", 1, metrics).ok());
  }
  // Evaluating a kept data set again replaces it and drops nothing.
  v1::EvalMetrics again;
  again.set_dataset("set10");
  again.mutable_evaluated_at()->set_seconds(5000);
  ASSERT_TRUE(repo_.RecordMetrics("news", 1, again).ok());
  auto record = repo_.ReadMetrics("news", 1);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->by_dataset().size(), static_cast<size_t>(kMaxDatasetsPerVersion));
  for (int i = 0; i < total; ++i) {
    EXPECT_EQ(record->by_dataset().contains("set" + std::to_string(i)), i >= 4) << i;
  }
}

}  // namespace
}  // namespace textclf::registry
