// Trained models that many tests serve, trained once per CTest run instead of once per test
// process: the setup tests fixtures.train_*_models (tests/support/CMakeLists.txt) publish each
// repository of fixture_recipes.h under $TEXTCLF_TEST_FIXTURES, and every test copies the one it
// needs into a model root of its own, since serving, evaluating and deleting change a repository.
//
// A test binary run by hand (no $TEXTCLF_TEST_FIXTURES) trains what it needs itself, once per
// process; point the variable at build/test-fixtures to reuse what the last ctest run trained.
#pragma once

#include <filesystem>

#include "tests/support/fixture_recipes.h"

namespace textclf::testing {

// The environment variable naming the folder the setup tests publish to.
inline constexpr char kFixtureRootVariable[] = "TEXTCLF_TEST_FIXTURES";

// Copies the models of `recipe` into `root` (created when missing), training them first when no
// complete trained copy is published. False, with a gtest failure saying why, when that fails.
[[nodiscard]] bool CopyFixtureModels(const FixtureRecipe& recipe, const std::filesystem::path& root);

// Trains `recipe` and publishes it as `fixture_root`/<recipe name>, replacing what was there.
// Trained in a staging folder and renamed into place, so a reader finds the whole repository
// or none: never half of one.
[[nodiscard]] bool PublishFixtureModels(const FixtureRecipe& recipe, const std::filesystem::path& fixture_root);

}  // namespace textclf::testing
