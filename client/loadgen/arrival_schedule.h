// Open-loop send times: evenly spaced (constant) or with exponential gaps (Poisson), both as
// offsets from the start so that rounding never accumulates into a drifting rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "client/loadgen/options.h"

namespace textclf::loadgen {

class ArrivalSchedule {
 public:
  ArrivalSchedule(Arrivals arrivals, double rate_per_s, uint64_t seed);
  // The offset of the next arrival from the start (the first is at 0).
  std::chrono::nanoseconds Next();

 private:
  Arrivals arrivals_;
  double rate_;
  std::mt19937_64 random_;
  std::exponential_distribution<double> gap_;
  double next_s_ = 0;
};

}  // namespace textclf::loadgen
