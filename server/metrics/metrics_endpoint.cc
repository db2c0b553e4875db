#include "server/metrics/metrics_endpoint.h"

#include <httplib.h>
#include <sys/socket.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace textclf::server {

MetricsEndpoint::~MetricsEndpoint() {
  if (server_ != nullptr) server_->stop();
  if (listener_.joinable()) listener_.join();
}

std::string MetricsEndpoint::Scrape() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    for (auto& family : collectable->Collect()) families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& host, int port, std::shared_ptr<prometheus::Registry> registry,
    std::vector<std::shared_ptr<prometheus::Collectable>> more) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " is outside 0..65535"));
  }
  if (registry == nullptr) return absl::InvalidArgumentError("metrics endpoint needs a registry");
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->collectables_.push_back(std::move(registry));
  for (auto& collectable : more) endpoint->collectables_.push_back(std::move(collectable));
  endpoint->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *endpoint->server_;
  // Two threads: scrapes are rare and cheap, and must not take cores from serving.
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // Without cpp-httplib's default SO_REUSEPORT: a second server on the port must fail, not share it.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const MetricsEndpoint* self = endpoint.get();
  server.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    // Compressed when the scraper accepts gzip (Prometheus does).
    res.set_content(self->Scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (port == 0) {
    endpoint->port_ = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, port)) {
    endpoint->port_ = port;
  }
  if (endpoint->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", host, ":", port, " (is the port in use?)"));
  }
  endpoint->listener_ = std::thread([&server] { server.listen_after_bind(); });
  return endpoint;
}

}  // namespace textclf::server
