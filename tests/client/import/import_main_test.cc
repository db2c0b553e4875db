// textclf-import as a user runs it, beside a server that shares the repository.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/common/files.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf {
namespace {

namespace fs = std::filesystem;

TEST(ImportMain, LeavesTheStagingFoldersOfALiveServerAlone) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "models";
  // A training of the server, writing its new version right now.
  const fs::path training = root / ".staging" / "news.12345";
  fs::create_directories(training);
  ASSERT_TRUE(WriteFileDurably(training / "half-written.bin", "x").ok());

  testing::ProcessResult run = testing::RunProcess(
      TEXTCLF_IMPORT_PATH, {"--models-dir", root.string(), "--name", "imported", "--checkpoint",
                            (dir.path() / "missing.pth").string()});
  EXPECT_NE(run.exit_code, 0) << "the checkpoint does not exist";
  EXPECT_TRUE(fs::exists(training / "half-written.bin")) << run.err;
}

}  // namespace
}  // namespace textclf
