// A published version whose files were damaged on disk: the server still starts and serves every
// other model, reports the version FAILED naming the file, refuses to classify with it, and
// never touches the files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CorruptModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestBrokenAndHealthy, root_.path()));
    const std::vector<std::string> dicts = DirEntries(version_dir() / "dicts");
    ASSERT_FALSE(dicts.empty());
    dict_ = "dicts/" + dicts.front();
    ASSERT_THAT(dict_, ::testing::EndsWith(".zdict"));
  }

  fs::path version_dir() const { return root_.path() / "broken" / "1"; }

  void Overwrite(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    ASSERT_TRUE(out.good());
  }

  // Starts a server on the damaged root and checks everything the server must do about it.
  void ExpectFailedVersionNaming(const std::string& problem) {
    const auto files_before = ReadTree(root_.path());
    auto server = TestServer::Start(root_.path());
    ASSERT_NE(server, nullptr) << "the server must start despite a damaged model";
    ASSERT_FALSE(server->server().load_failures().empty());
    EXPECT_THAT(server->server().load_failures().front(), HasSubstr("broken"));

    ClassifyCall healthy = Classify(server->stub(), "healthy", {"These Cats Are Too Funny"});
    EXPECT_TRUE(healthy.status.ok()) << Describe(healthy.status);

    auto info = GetModel(server->stub(), "broken");
    ASSERT_TRUE(info.status.ok()) << Describe(info.status);
    ASSERT_EQ(info.response.versions_size(), 1);
    EXPECT_EQ(info.response.versions(0).state(), v1::FAILED);
    EXPECT_THAT(info.response.versions(0).state_message(), HasSubstr(dict_));
    EXPECT_THAT(info.response.versions(0).state_message(), HasSubstr(problem));

    auto list = ListModels(server->stub());
    ASSERT_TRUE(list.status.ok());
    EXPECT_EQ(list.response.models_size(), 2);

    ClassifyCall named = Classify(server->stub(), "broken", {"These Cats Are Too Funny"}, 1);
    EXPECT_EQ(named.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(named.status);
    EXPECT_THAT(named.status.error_message(), HasSubstr(dict_));
    // A client that asks for the latest version must learn the problem too.
    ClassifyCall latest = Classify(server->stub(), "broken", {"These Cats Are Too Funny"}, 0);
    EXPECT_EQ(latest.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(latest.status);
    EXPECT_THAT(latest.status.error_message(), HasSubstr(dict_));

    auto load = LoadModel(server->stub(), "broken", 1);
    EXPECT_FALSE(load.status.ok());
    EXPECT_THAT(load.status.error_message(), HasSubstr(dict_));

    server->Stop();
    EXPECT_EQ(ReadTree(root_.path()), files_before) << "the server changed the files on disk";
  }

  TempDir root_;
  std::string dict_;
};

TEST_F(CorruptModelTest, AFlippedDictionaryByteMarksTheVersionFailed) {
  const fs::path path = version_dir() / dict_;
  std::string content = ReadTree(version_dir())[dict_];
  ASSERT_GT(content.size(), 100u);
  content[content.size() / 2] ^= 0x5a;
  content[content.size() - 1] ^= 0x01;
  Overwrite(path, content);
  ExpectFailedVersionNaming("corrupt");
}

TEST_F(CorruptModelTest, ATruncatedDictionaryMarksTheVersionFailed) {
  const fs::path path = version_dir() / dict_;
  std::string content = ReadTree(version_dir())[dict_];
  Overwrite(path, content.substr(0, content.size() / 3));
  ExpectFailedVersionNaming("truncated");
}

TEST_F(CorruptModelTest, AMissingDictionaryMarksTheVersionFailed) {
  ASSERT_TRUE(fs::remove(version_dir() / dict_));
  ExpectFailedVersionNaming("missing");
}

// A FIFO blocks whoever opens it for reading until a writer comes: the server must neither
// read it nor hang at start, on LoadModel or on DeleteModel.
TEST_F(CorruptModelTest, AFifoInPlaceOfADictionaryMarksTheVersionFailedWithoutBlocking) {
  const fs::path path = version_dir() / dict_;
  ASSERT_TRUE(fs::remove(path));
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  // Should anything block on the FIFO, a writer arriving after a while lets it go on, and the
  // checks below fail instead of the test hanging.
  std::atomic<bool> done{false};
  std::thread unblocker([&] {
    for (int i = 0; i < 600 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    while (!done) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const auto started = std::chrono::steady_clock::now();
  ExpectFailedVersionNaming("not a regular file");
  auto server = TestServer::Start(root_.path());
  ASSERT_NE(server, nullptr);
  auto deleted = DeleteModel(server->stub(), "broken", 0);
  EXPECT_TRUE(deleted.status.ok()) << Describe(deleted.status);
  server->Stop();
  done = true;
  unblocker.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(50)) << "something waited on the FIFO";
}

TEST_F(CorruptModelTest, AnUnreadableManifestMarksTheVersionFailedAndTheServerStillStarts) {
  Overwrite(version_dir() / "manifest.json", "{ this is not json");
  const auto files_before = ReadTree(root_.path());
  auto server = TestServer::Start(root_.path());
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(Classify(server->stub(), "healthy", {"a headline"}).status.ok());
  auto info = GetModel(server->stub(), "broken");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  ASSERT_EQ(info.response.versions_size(), 1);
  EXPECT_EQ(info.response.versions(0).state(), v1::FAILED);
  EXPECT_THAT(info.response.versions(0).state_message(), HasSubstr("manifest.json"));
  ClassifyCall named = Classify(server->stub(), "broken", {"a headline"}, 1);
  EXPECT_EQ(named.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(named.status);
  EXPECT_THAT(named.status.error_message(), HasSubstr("manifest.json"));
  server->Stop();
  EXPECT_EQ(ReadTree(root_.path()), files_before);
}

}  // namespace
}  // namespace textclf::testing
