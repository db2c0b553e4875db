// The HTTP endpoint (GET /metrics) that Prometheus scrapes, on its own port beside the gRPC one.
// Served by cpp-httplib (as the HTTP/REST port is), whose threads have the default stack size:
// civetweb's 100 KB stacks, what prometheus-cpp's Exposer uses, could not start a thread once a
// library with large static thread-local storage (OpenBLAS) was loaded.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace httplib {
class Server;
}

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
  MetricsEndpoint() = default;
  // The text exposition format of everything registered, as of now.
  std::string Scrape() const;

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
};

}  // namespace textclf::server
