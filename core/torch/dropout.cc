#include "core/torch/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace textclf::torch_support {
namespace {

// SplitMix64's finaliser: consecutive counters give independent-looking 64-bit words.
inline uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;
// Each 64-bit word decides two elements, 32 bits each; a chunk of this many words per task.
constexpr int64_t kWordsPerTask = 16384;

// An element is dropped when its 32 bits fall below p * 2^32.
uint64_t DropThreshold(double p) {
  TORCH_CHECK(p >= 0 && p < 1, "dropout probability must be in [0, 1), got ", p);
  return static_cast<uint64_t>(std::ldexp(p, 32));
}

// The 64 bits that decide elements 2w and 2w + 1 (low and high half).
inline uint64_t WordBits(uint64_t seed, int64_t w) { return Mix(seed + static_cast<uint64_t>(w + 1) * kGoldenGamma); }

}  // namespace

uint64_t DrawDropoutSeed() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

void DropoutKeeps(double p, uint64_t seed, int64_t first, int64_t count, uint8_t* keep) {
  const uint64_t threshold = DropThreshold(p);
  int64_t i = first;
  const int64_t end = first + count;
  if (i < end && i % 2 == 1) {  // an odd start uses the high half of its word
    keep[0] = (WordBits(seed, i / 2) >> 32) >= threshold;
    ++i;
  }
  for (; i < end; i += 2) {
    const uint64_t bits = WordBits(seed, i / 2);
    keep[i - first] = (bits & 0xffffffffULL) >= threshold;
    if (i + 1 < end) keep[i + 1 - first] = (bits >> 32) >= threshold;
  }
}

at::Tensor DropoutMask(at::IntArrayRef sizes, double p, uint64_t seed) {
  const uint64_t threshold = DropThreshold(p);
  at::Tensor mask = at::empty(sizes, at::TensorOptions().dtype(at::kFloat));
  float* out = mask.data_ptr<float>();
  const int64_t n = mask.numel();
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  const int64_t words = (n + 1) / 2;
  at::parallel_for(0, words, kWordsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      const uint64_t bits = WordBits(seed, w);
      const int64_t i = 2 * w;
      out[i] = (bits & 0xffffffffULL) >= threshold ? keep : 0.0f;
      if (i + 1 < n) out[i + 1] = (bits >> 32) >= threshold ? keep : 0.0f;
    }
  });
  return mask;
}

at::Tensor Dropout(const at::Tensor& x, double p, bool training) {
  TORCH_CHECK(p >= 0 && p < 1, "dropout probability must be in [0, 1), got ", p);
  if (!training || p == 0) return x;
  if (!x.device().is_cpu()) return at::dropout(x, p, /*train=*/true);
  at::Tensor mask = DropoutMask(x.sizes(), p, DrawDropoutSeed());
  return at::mul(x, x.scalar_type() == at::kFloat ? mask : mask.to(x.scalar_type()));
}

}  // namespace textclf::torch_support
