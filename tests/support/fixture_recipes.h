// How each shared fixture repository is trained: every model through the Train RPC of an
// in-process server, exactly as the tests that serve it once trained it in their own set-up.
// A repository holds only the models its tests expect to find, under the names they use.
#pragma once

#include <vector>

#include "textclf/v1/service.grpc.pb.h"

namespace textclf::testing {

struct FixtureRecipe {
  const char* name;                             // its folder in the fixture root
  bool (*train)(v1::Classifier::Stub& server);  // false, with gtest failures recorded, when it failed
};

// "headlines" (TEXT_CNN on clickbait) and "fashion" (ResNet-8 on Fashion-MNIST): Quantize's.
extern const FixtureRecipe kQuantizableCnns;

// Zest models on clickbait, each named as the tests that serve it call it:
extern const FixtureRecipe kZestTwoVersions;       // "m" versions 1 and 2: restart, models
extern const FixtureRecipe kZestGood;              // "good": evaluate
extern const FixtureRecipe kZestExisting;          // "existing": refused trainings beside it
extern const FixtureRecipe kZestGoodAndIdle;       // "good" on short texts, "idle" never loaded: classify
extern const FixtureRecipe kZestCb;                // "cb": poll, drain
extern const FixtureRecipe kZestCbLarger;          // "cb" on 300 examples per class: runtime
extern const FixtureRecipe kZestCbWithEval;        // "cb" with a recorded evaluation: operability
extern const FixtureRecipe kZestBrokenAndHealthy;  // "broken" and "healthy": corrupt model
extern const FixtureRecipe kZestFeedback;          // "fb": the CLI's feedback command
extern const FixtureRecipe kZestLoadgen;           // "bait": load runs

// What each setup test trains (tests/support/CMakeLists.txt): the CNNs take most of a minute,
// the Zest models seconds, so tests that need only Zest models need not wait for the CNNs.
const std::vector<const FixtureRecipe*>& CnnRecipes();
const std::vector<const FixtureRecipe*>& ZestRecipes();

}  // namespace textclf::testing
