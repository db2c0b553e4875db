// An estimate of the memory a training job's model needs, from its config alone, so that a
// config that could never fit (a TEXT_CNN with a batch of a million 10,000-token texts) is
// refused with INVALID_ARGUMENT before anything is read or allocated, instead of running the
// server out of memory halfway through a job.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "textclf/v1/model.pb.h"

namespace textclf {

// Bytes of the dominant terms: parameters with their gradients and optimizer state, and one
// batch's activations kept for the backward pass. Zero for families whose memory follows
// their data (Zest), which max_train_bytes bounds instead. Unset fields take their defaults;
// a config the family would refuse anyway counts as zero (the family says what is wrong).
double EstimateJobMemoryBytes(v1::Family family, const v1::ModelConfig& config);

// INVALID_ARGUMENT, naming the estimate and the settings that drive it, when it passes `limit`.
absl::Status CheckJobMemory(v1::Family family, const v1::ModelConfig& config, int64_t limit);

}  // namespace textclf
