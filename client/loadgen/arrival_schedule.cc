// Constant and Poisson arrival offsets.
#include "client/loadgen/arrival_schedule.h"

namespace textclf::loadgen {

ArrivalSchedule::ArrivalSchedule(Arrivals arrivals, double rate_per_s, uint64_t seed)
    : arrivals_(arrivals), rate_(rate_per_s), random_(seed), gap_(rate_per_s) {}

std::chrono::nanoseconds ArrivalSchedule::Next() {
  const double now_s = next_s_;
  next_s_ += arrivals_ == Arrivals::kPoisson ? gap_(random_) : 1.0 / rate_;
  return std::chrono::nanoseconds(static_cast<int64_t>(now_s * 1e9));
}

}  // namespace textclf::loadgen
