// A weighted mix of Classify and Evaluate requests, and the choice of sender from the options.
#include <algorithm>

#include "client/loadgen/senders.h"

namespace textclf::loadgen {
namespace {

// splitmix64: a cheap, well-spread hash, so consecutive sequence numbers pick kinds evenly
// rather than in runs of one kind.
uint64_t Spread(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class MixedSender : public RequestSender {
 public:
  MixedSender(std::unique_ptr<RequestSender> classify, std::unique_ptr<RequestSender> evaluate, MixWeights weights,
              uint64_t seed)
      : classify_(std::move(classify)), evaluate_(std::move(evaluate)), weights_(weights), seed_(seed) {}

  void Send(uint64_t sequence, OutcomeCallback done) override {
    const uint64_t total = static_cast<uint64_t>(weights_.classify + weights_.evaluate);
    const bool classify = Spread(sequence ^ seed_) % total < static_cast<uint64_t>(weights_.classify);
    (classify ? classify_ : evaluate_)->Send(sequence, std::move(done));
  }

  void CancelAll() override {
    classify_->CancelAll();
    evaluate_->CancelAll();
  }

 private:
  std::unique_ptr<RequestSender> classify_;
  std::unique_ptr<RequestSender> evaluate_;
  MixWeights weights_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<RequestSender> MakeMixedSender(std::unique_ptr<RequestSender> classify,
                                               std::unique_ptr<RequestSender> evaluate, MixWeights weights,
                                               uint64_t seed) {
  return std::make_unique<MixedSender>(std::move(classify), std::move(evaluate), weights, seed);
}

std::unique_ptr<RequestSender> MakeSender(const Options& options, ChannelPool& pool, const Workload& workload) {
  if (options.health) return MakeHealthSender(pool, options.timeout_s);
  SenderSettings settings;
  settings.model = options.model;
  settings.version = options.version;
  settings.batch_size = options.batch_size;
  settings.timeout_s = options.timeout_s;
  settings.priority = options.priority == "bulk" ? v1::BULK : v1::INTERACTIVE;
  if (options.protocol == "oip-grpc") return MakeModelInferSender(pool, workload, settings);
  if (options.protocol == "oip-http") {
    // One worker per request a closed loop keeps in flight; an open loop's in-flight requests
    // are bounded by these workers instead (the rest queue in the client, and their wait counts).
    int workers = 64;
    if (!options.open_loop() && !options.concurrency.empty()) {
      workers = *std::max_element(options.concurrency.begin(), options.concurrency.end());
    }
    return MakeHttpInferSender(options.http_target, workload, settings, workers);
  }
  if (options.mix.evaluate == 0) return MakeClassifySender(pool, workload, settings);
  if (options.mix.classify == 0) return MakeEvaluateSender(pool, workload, settings);
  return MakeMixedSender(MakeClassifySender(pool, workload, settings), MakeEvaluateSender(pool, workload, settings),
                         options.mix, options.seed);
}

}  // namespace textclf::loadgen
