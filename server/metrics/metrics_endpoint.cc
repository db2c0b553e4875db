// The HTTP endpoint (GET /metrics) that Prometheus scrapes, on its own port beside the gRPC one.
#include "server/metrics/metrics_endpoint.h"

#include <exception>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace textclf::server {
namespace {

// civetweb wants IPv6 literals in brackets, as in "[::1]:9464".
std::string BindAddress(const std::string& host, int port) {
  const bool ipv6_literal = host.find(':') != std::string::npos && !host.starts_with('[');
  return ipv6_literal ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(std::shared_ptr<prometheus::Registry> registry,
                                 std::vector<std::shared_ptr<prometheus::Collectable>> more,
                                 std::unique_ptr<prometheus::Exposer> exposer, int port)
    : registry_(std::move(registry)), more_(std::move(more)), exposer_(std::move(exposer)), port_(port) {}

MetricsEndpoint::~MetricsEndpoint() = default;

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& host, int port, std::shared_ptr<prometheus::Registry> registry,
    std::vector<std::shared_ptr<prometheus::Collectable>> more) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " is outside 0..65535"));
  }
  if (registry == nullptr) return absl::InvalidArgumentError("metrics endpoint needs a registry");
  const std::string address = BindAddress(host, port);
  // prometheus-cpp (through civetweb) reports a failed bind by throwing; none of it may leave here.
  try {
    // Two threads: scrapes are rare and cheap, and must not take cores from serving.
    auto exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
    exposer->RegisterCollectable(registry, "/metrics");
    for (const auto& collectable : more) exposer->RegisterCollectable(collectable, "/metrics");
    const std::vector<int> ports = exposer->GetListeningPorts();
    if (ports.empty()) {
      return absl::UnavailableError(absl::StrCat("metrics endpoint on ", address, " listens on no port"));
    }
    return std::unique_ptr<MetricsEndpoint>(
        new MetricsEndpoint(std::move(registry), std::move(more), std::move(exposer), ports.front()));
  } catch (const std::exception& e) {
    // civetweb starts its threads with 100 KB stacks, too small when the libraries loaded need
    // more static thread-local storage than that (OpenBLAS alone takes 60 KB): the same error.
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", address, " (is the port in use? or is OpenBLAS the system BLAS? ",
        "its thread-local storage leaves no room in civetweb's thread stacks; see the README): ", e.what()));
  } catch (...) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, " (is the port in use?)"));
  }
}

}  // namespace textclf::server
