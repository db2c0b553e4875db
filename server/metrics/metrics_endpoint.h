// The HTTP endpoint (GET /metrics) that Prometheus scrapes, on its own port beside the gRPC one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace textclf::server {

class MetricsEndpoint {
 public:
  // Serves `registry` (and `more`, e.g. the process collector) at http://host:port/metrics until
  // destroyed. Port 0 picks a free port (see port()). A port in use gives UNAVAILABLE; a port
  // outside 0..65535 gives INVALID_ARGUMENT.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& host, int port, std::shared_ptr<prometheus::Registry> registry,
      std::vector<std::shared_ptr<prometheus::Collectable>> more = {});
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // The port actually listened on, the picked one when started with port 0.
  int port() const { return port_; }

 private:
  MetricsEndpoint(std::shared_ptr<prometheus::Registry> registry,
                  std::vector<std::shared_ptr<prometheus::Collectable>> more,
                  std::unique_ptr<prometheus::Exposer> exposer, int port);

  // The exposer holds what it serves only weakly; these keep it alive as long as it is served.
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::shared_ptr<prometheus::Collectable>> more_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace textclf::server
