#include "core/jobs/job_barrier.h"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

namespace textclf {
namespace {

TEST(JobBarrier, PassesAnOutcomeThrough) {
  auto outcome = RunBehindBarrier<int>([] { return absl::StatusOr<int>(7); }, [] { return std::string("train"); });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, 7);
  auto failed = RunBehindBarrier<int>([] { return absl::StatusOr<int>(absl::NotFoundError("x")); },
                                      [] { return std::string("train"); });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
}

// What libtorch throws when an allocation is refused, or a malformed file's length_error, becomes
// INTERNAL naming the stage.
TEST(JobBarrier, TurnsExceptionsIntoInternalNamingTheStage) {
  auto thrown = RunBehindBarrier<int>([]() -> absl::StatusOr<int> { throw std::length_error("vector too long"); },
                                      [] { return std::string("dictionaries"); });
  EXPECT_EQ(thrown.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(thrown.status().message().find("\"dictionaries\""), std::string_view::npos) << thrown.status();
  EXPECT_NE(thrown.status().message().find("vector too long"), std::string_view::npos) << thrown.status();
  auto bad_alloc = RunBehindBarrier<int>([]() -> absl::StatusOr<int> { throw std::bad_alloc(); },
                                         [] { return std::string("epoch 3"); });
  EXPECT_EQ(bad_alloc.status().code(), absl::StatusCode::kInternal);
  auto odd = RunBehindBarrier<int>([]() -> absl::StatusOr<int> { throw 42; }, [] { return std::string("load"); });
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(odd.status().message().find("unknown exception"), std::string_view::npos);
}

}  // namespace
}  // namespace textclf
