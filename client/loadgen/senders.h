// The kinds of request loadgen can send, each a RequestSender: Classify, Evaluate (a one-batch
// labelled stream), the health check, and a weighted mix of Classify and Evaluate.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "client/loadgen/channel_pool.h"
#include "client/loadgen/options.h"
#include "client/loadgen/request_sender.h"
#include "client/loadgen/workload.h"
#include "textclf/v1/service.pb.h"

namespace textclf::loadgen {

struct SenderSettings {
  std::string model;
  int64_t version = 0;
  int batch_size = 1;
  double timeout_s = 10;
  v1::Priority priority = v1::INTERACTIVE;
  // Evaluate requests record their metrics with the model version under this data-set name.
  std::string evaluate_dataset = "loadgen";
};

// The channel pool and the workload must outlive the senders.
std::unique_ptr<RequestSender> MakeClassifySender(ChannelPool& pool, const Workload& workload,
                                                  const SenderSettings& settings);
// The same requests as Classify's through the Open Inference Protocol's ModelInfer.
std::unique_ptr<RequestSender> MakeModelInferSender(ChannelPool& pool, const Workload& workload,
                                                    const SenderSettings& settings);
// The same requests as JSON infer calls on the HTTP port at `target` (host:port), sent by
// `workers` threads with a kept-alive connection each.
std::unique_ptr<RequestSender> MakeHttpInferSender(const std::string& target, const Workload& workload,
                                                   const SenderSettings& settings, int workers);
std::unique_ptr<RequestSender> MakeEvaluateSender(ChannelPool& pool, const Workload& workload,
                                                  const SenderSettings& settings);
std::unique_ptr<RequestSender> MakeHealthSender(ChannelPool& pool, double timeout_s);
// Picks the kind of each request from its sequence number through a hash, so that the mix is
// spread evenly yet repeatable.
std::unique_ptr<RequestSender> MakeMixedSender(std::unique_ptr<RequestSender> classify,
                                               std::unique_ptr<RequestSender> evaluate, MixWeights weights,
                                               uint64_t seed);

// The sender the options ask for.
std::unique_ptr<RequestSender> MakeSender(const Options& options, ChannelPool& pool, const Workload& workload);

// Every request's deadline, counted from the moment it is started.
inline std::chrono::system_clock::time_point DeadlineAfter(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

}  // namespace textclf::loadgen
