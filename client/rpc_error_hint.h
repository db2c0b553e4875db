// What to do about a failed call, when its status alone does not say: send a token, use a token
// of a higher role, trust the CA that signed the server's certificate, allow more time. Shared
// by textclf and textclf-loadgen so that both give the same advice.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "client/channel_security.h"

namespace textclf::client {

// One line of advice for `status`, given how the call was made (`timeout_s`: its deadline in
// seconds, 0 for none); empty when there is nothing to add to the server's message.
std::string RpcErrorHint(const grpc::Status& status, const ChannelSecurity& security, double timeout_s);

}  // namespace textclf::client
