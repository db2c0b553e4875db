// The setup tests of a CTest run: train every fixture repository once and publish it under
// $TEXTCLF_TEST_FIXTURES for the tests that copy it (fixture_models.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tests/support/fixture_models.h"

namespace textclf::testing {
namespace {

void PublishEach(const std::vector<const FixtureRecipe*>& recipes) {
  const char* root = std::getenv(kFixtureRootVariable);
  ASSERT_TRUE(root != nullptr && *root != '\0') << kFixtureRootVariable << " names no folder to publish to";
  std::filesystem::create_directories(root);
  for (const FixtureRecipe* recipe : recipes) {
    SCOPED_TRACE(recipe->name);
    EXPECT_TRUE(PublishFixtureModels(*recipe, root));
  }
}

TEST(TrainFixtureModels, CnnModels) { PublishEach(CnnRecipes()); }

TEST(TrainFixtureModels, ZestModels) { PublishEach(ZestRecipes()); }

}  // namespace
}  // namespace textclf::testing
