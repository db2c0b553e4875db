#include "server/trace_context.h"

#include <grpcpp/server_context.h>

namespace textclf::server {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string TraceIdOf(std::string_view traceparent) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters;
  // future versions may append fields after another "-".
  if (traceparent.size() < 55 || (traceparent.size() > 55 && traceparent[55] != '-')) return "";
  if (traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') return "";
  const std::string_view version = traceparent.substr(0, 2), trace = traceparent.substr(3, 32),
                         parent = traceparent.substr(36, 16), flags = traceparent.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(parent) || !IsLowerHex(flags)) {
    return "";
  }
  if (trace.find_first_not_of('0') == std::string_view::npos) return "";
  if (parent.find_first_not_of('0') == std::string_view::npos) return "";
  return std::string(trace);
}

std::string TraceIdOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("traceparent");
  if (it == metadata.end()) return "";
  return TraceIdOf(std::string_view(it->second.data(), it->second.size()));
}

}  // namespace textclf::server
