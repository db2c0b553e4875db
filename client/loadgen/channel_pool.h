// One gRPC channel per target (or several, with --connections) and a round-robin pick over them:
// client-side load balancing over replicas, as a headless Kubernetes service would give.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "client/channel_security.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::loadgen {

class ChannelPool {
 public:
  // `security`: the TLS credentials and token of every channel (default: plaintext, no token).
  ChannelPool(const std::vector<std::string>& targets, int connections_per_target,
              const client::ChannelSecurity& security = {});

  struct Endpoint {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Classifier::Stub> stub;
  };
  // The index of the next endpoint in round-robin order; safe from any thread.
  size_t NextIndex();
  Endpoint& Next() { return endpoints_[NextIndex()]; }
  Endpoint& at(size_t index) { return endpoints_[index]; }
  size_t size() const { return endpoints_.size(); }

 private:
  std::vector<Endpoint> endpoints_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace textclf::loadgen
