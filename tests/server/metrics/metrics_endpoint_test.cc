// Tests of MetricsEndpoint: a real HTTP scrape over loopback, and bind failures as statuses.
#include "server/metrics/metrics_endpoint.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "tests/support/metrics_scrape.h"

namespace textclf::server {
namespace {

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

  const std::string response = testing::HttpGet((*endpoint)->port(), "/metrics");
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
  EXPECT_TRUE(testing::HttpGet(port, "/metrics").starts_with("HTTP/1.1 200"));
}

TEST(MetricsEndpointTest, PortsOutsideTheTcpRangeAreInvalidArguments) {
  EXPECT_EQ(MetricsEndpoint::Start("127.0.0.1", -1, RegistryWithOneCounter()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsEndpoint::Start("127.0.0.1", 65536, RegistryWithOneCounter()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace textclf::server
