// Channels to the targets and the round-robin pick.
#include "client/loadgen/channel_pool.h"

namespace textclf::loadgen {

ChannelPool::ChannelPool(const std::vector<std::string>& targets, int connections_per_target,
                         const client::ChannelSecurity& security) {
  for (const std::string& target : targets) {
    for (int i = 0; i < connections_per_target; ++i) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(64 << 20);
      args.SetMaxSendMessageSize(64 << 20);
      // Channels with equal arguments share one TCP connection; a distinct argument and a local
      // subchannel pool give each channel its own, so --connections really opens several.
      args.SetInt("textclf.loadgen.connection", i);
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      Endpoint endpoint;
      endpoint.channel = security.CreateChannel(target, args);
      endpoint.stub = v1::Classifier::NewStub(endpoint.channel);
      endpoints_.push_back(std::move(endpoint));
    }
  }
}

size_t ChannelPool::NextIndex() {
  return next_.fetch_add(1, std::memory_order_relaxed) % endpoints_.size();
}

}  // namespace textclf::loadgen
