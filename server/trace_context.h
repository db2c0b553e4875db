// W3C Trace Context on the RPC path: a client (or the mesh in front of it) sends `traceparent`
// metadata, "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"; its trace id goes into the
// log lines of the call and of the batches that served it, and into the response's request id,
// so one id finds a request everywhere.
#pragma once

#include <string>
#include <string_view>

namespace grpc {
class ServerContextBase;
}

namespace textclf::server {

// The trace id of a traceparent value; empty when it is malformed (or the all-zero id, which
// the standard declares invalid). Versions other than 00 are read the same way, as the standard
// asks of a receiver.
std::string TraceIdOf(std::string_view traceparent);

// The trace id of a call's traceparent metadata, or empty.
std::string TraceIdOf(const grpc::ServerContextBase& context);

}  // namespace textclf::server
