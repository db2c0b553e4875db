#include "tests/support/fixture_models.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace fs = std::filesystem;

namespace {

// A published fixture: <fixture root>/<recipe name>/models is the model root to copy, and the
// marker beside it, written last before the rename, says the training finished.
constexpr char kModels[] = "models";
constexpr char kComplete[] = "complete";

bool IsComplete(const fs::path& published) {
  std::error_code ignored;
  return fs::is_regular_file(published / kComplete, ignored) && fs::is_directory(published / kModels, ignored);
}

// Where this process trains what it found nowhere else; removed when the process exits.
const fs::path& PrivateFixtureRoot() {
  static const TempDir root;
  return root.path();
}

// The published fixture of `recipe`: the setup test's when complete, otherwise one trained in
// this process (once: later calls find it).
std::optional<fs::path> TrainedCopy(const FixtureRecipe& recipe) {
  const char* shared = std::getenv(kFixtureRootVariable);
  const bool has_shared = shared != nullptr && *shared != '\0';
  if (has_shared && IsComplete(fs::path(shared) / recipe.name)) return fs::path(shared) / recipe.name;
  static std::mutex training;
  std::lock_guard<std::mutex> lock(training);
  const fs::path mine = PrivateFixtureRoot() / recipe.name;
  if (IsComplete(mine)) return mine;
  std::cerr << "[fixture] "
            << (has_shared ? (fs::path(shared) / recipe.name).string() + " is missing or incomplete"
                           : std::string(kFixtureRootVariable) + " is not set (ctest sets it)")
            << ": training " << recipe.name << " in this process\n";
  if (PublishFixtureModels(recipe, PrivateFixtureRoot())) return mine;
  return std::nullopt;
}

}  // namespace

bool CopyFixtureModels(const FixtureRecipe& recipe, const fs::path& root) {
  const std::optional<fs::path> trained = TrainedCopy(recipe);
  if (!trained) {
    ADD_FAILURE() << "no fixture models " << recipe.name;
    return false;
  }
  std::error_code error;
  fs::create_directories(root, error);
  if (!error) fs::copy(*trained / kModels, root, fs::copy_options::recursive, error);
  EXPECT_FALSE(error) << "cannot copy " << *trained / kModels << " to " << root << ": " << error.message();
  return !error;
}

bool PublishFixtureModels(const FixtureRecipe& recipe, const fs::path& fixture_root) {
  // Names of this process's own, so that no two publishers share a staging folder.
  const std::string tag = std::string(recipe.name) + "." + std::to_string(::getpid());
  const fs::path staging = fixture_root / (".staging." + tag);
  const fs::path replaced = fixture_root / (".replaced." + tag);
  const fs::path published = fixture_root / recipe.name;
  std::error_code ignored;
  fs::remove_all(staging, ignored);
  fs::create_directories(staging / kModels);
  bool trained = false;
  if (auto server = TestServer::Start(staging / kModels)) trained = recipe.train(server->stub());
  // The server has stopped here: everything it writes is on disk.
  if (!trained) {
    fs::remove_all(staging, ignored);
    ADD_FAILURE() << "training the fixture models " << recipe.name << " failed";
    return false;
  }
  std::ofstream(staging / kComplete) << recipe.name << "\n";
  std::error_code error;
  if (fs::exists(published)) fs::rename(published, replaced, error);
  if (!error) fs::rename(staging, published, error);
  fs::remove_all(replaced, ignored);
  fs::remove_all(staging, ignored);
  EXPECT_FALSE(error) << "cannot publish " << published << ": " << error.message();
  return !error;
}

}  // namespace textclf::testing
