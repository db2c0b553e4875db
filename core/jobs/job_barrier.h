// The barrier between a job's code and the thread that runs it: an exception that escapes the job
// (libtorch's c10::Error when an allocation is refused, std::length_error from a malformed
// file) becomes an INTERNAL status naming the stage the job had reached, and the thread, and
// the server, carry on.
#pragma once

#include <exception>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace textclf {

// Runs `job`; `stage` names the stage it is in when it throws.
template <typename Outcome>
absl::StatusOr<Outcome> RunBehindBarrier(const std::function<absl::StatusOr<Outcome>()>& job,
                                         const std::function<std::string()>& stage) {
  try {
    return job();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("the job failed in stage \"", stage(), "\": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat("the job failed in stage \"", stage(), "\" (unknown exception)"));
  }
}

}  // namespace textclf
