// Connecting every channel before measuring, so that connection set-up never counts as latency
// and a wrong address, CA or certificate is one clear error instead of a table of UNAVAILABLE.
#pragma once

#include <string>
#include <vector>

#include "client/channel_security.h"
#include "client/loadgen/channel_pool.h"

namespace textclf::loadgen {

struct ConnectFailure {
  std::string message;  // empty: every channel connected
  std::string hint;     // what to do about it, when the error tells (a TLS failure, say)
};

// Waits up to `wait_s` seconds for each channel of `pool`, made for `targets` with
// `connections_per_target` channels each.
ConnectFailure ConnectAll(ChannelPool& pool, const std::vector<std::string>& targets, int connections_per_target,
                          const client::ChannelSecurity& security, double wait_s);

}  // namespace textclf::loadgen
