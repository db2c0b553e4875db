// Tests of MetricsEndpoint: a real HTTP scrape over loopback, and bind failures as statuses.
#include "server/metrics/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"

namespace textclf::server {
namespace {

// The whole HTTP response to GET /metrics on 127.0.0.1:port, or "" if it cannot connect.
std::string HttpGetMetrics(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = ::write(fd, request.data() + sent, request.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

std::shared_ptr<prometheus::Registry> RegistryWithOneCounter() {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("textclf_endpoint_test_total")
      .Help("Counts nothing; proves the endpoint serves the registry.")
      .Register(*registry)
      .Add({})
      .Increment(3);
  return registry;
}

TEST(MetricsEndpointTest, PortZeroServesMetricsOnAPickedFreePort) {
  auto endpoint = MetricsEndpoint::Start("127.0.0.1", 0, RegistryWithOneCounter());
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0);

  const std::string response = HttpGetMetrics((*endpoint)->port());
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  EXPECT_NE(response.find("\ntextclf_endpoint_test_total 3"), std::string::npos) << response;
}

TEST(MetricsEndpointTest, ASecondEndpointOnTheSamePortIsUnavailable) {
  auto first = MetricsEndpoint::Start("127.0.0.1", 0, RegistryWithOneCounter());
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = (*first)->port();

  auto second = MetricsEndpoint::Start("127.0.0.1", port, RegistryWithOneCounter());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_NE(std::string(second.status().message()).find(absl::StrCat("127.0.0.1:", port)), std::string::npos)
      << second.status();
  // The first one is unharmed.
  EXPECT_TRUE(HttpGetMetrics(port).starts_with("HTTP/1.1 200"));
}

TEST(MetricsEndpointTest, PortsOutsideTheTcpRangeAreInvalidArguments) {
  EXPECT_EQ(MetricsEndpoint::Start("127.0.0.1", -1, RegistryWithOneCounter()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsEndpoint::Start("127.0.0.1", 65536, RegistryWithOneCounter()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace textclf::server
