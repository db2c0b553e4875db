// What an operator sees, through a real server and a real scrape of /metrics (parsed, not
// grepped): every refusal counted with its code, a failed model in the health service and in
// textclf_model_state, evaluation gauges back after a restart, a deleted version's series gone,
// and JSON log lines that carry the trace id a client sent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/torch/openblas_kernel.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/health_probe.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/server_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// One sample of the text exposition format: name{label="value",...} value.
struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the text exposition format (comments skipped; label values unescaped).
std::vector<PromSample> ParseExposition(const std::string& text) {
  std::vector<PromSample> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    PromSample s;
    size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        const std::string key = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;  // past ="
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // past }
    }
    s.value = std::stod(line.substr(line.find_first_not_of(' ', i)));
    samples.push_back(std::move(s));
  }
  return samples;
}

// Whether `s` is named `name` and has every label of `labels`.
bool Matches(const PromSample& s, const std::string& name, const std::map<std::string, std::string>& labels) {
  if (s.name != name) return false;
  for (const auto& [k, v] : labels) {
    auto it = s.labels.find(k);
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

double Sum(const std::vector<PromSample>& samples, const std::string& name,
           const std::map<std::string, std::string>& labels = {}) {
  double total = 0;
  for (const PromSample& s : samples) total += Matches(s, name, labels) ? s.value : 0;
  return total;
}

bool Has(const std::vector<PromSample>& samples, const std::string& name,
         const std::map<std::string, std::string>& labels = {}) {
  for (const PromSample& s : samples) {
    if (Matches(s, name, labels)) return true;
  }
  return false;
}

std::vector<PromSample> Scrape(int port) {
  const std::string response = HttpGet(port, "/metrics");
  const size_t body = response.find("\r\n\r\n");
  EXPECT_NE(body, std::string::npos) << response.substr(0, 200);
  return ParseExposition(body == std::string::npos ? "" : response.substr(body + 4));
}

HealthStatus::ServingStatus Health(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  health::HealthCheckResponse response;
  if (!CheckHealth(channel.get(), service, &response).ok()) return HealthStatus::SERVICE_UNKNOWN;
  return response.status();
}

// Waits (the health and state refresh runs once a second) until `done` holds.
bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class OperabilityTest : public ::testing::Test {
 protected:
  // "cb", trained with an EVAL split whose metrics it recorded.
  void SetUp() override { ASSERT_TRUE(CopyFixtureModels(kZestCbWithEval, root_.path())); }

  std::unique_ptr<TestServer> Start(const std::function<void(v1::ServerConfig&)>& adjust = {}) {
    return TestServer::Start(root_.path(), [&](v1::ServerConfig& c) {
      c.set_metrics_port(0);
      c.set_strict_readiness(true);
      if (adjust) adjust(c);
    });
  }

  TempDir root_;
};

TEST_F(OperabilityTest, EveryRefusalIsCountedWithItsCode) {
  auto server = Start([](v1::ServerConfig& c) {
    (*c.mutable_model_overrides())["cb"].mutable_batching()->set_max_queue_size(8);
  });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Classify(server->stub(), "cb", {"Cats are funny"}).status.ok());
  v1::ClassifyRequest empty;
  empty.set_model("cb");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Classify(server->stub(), empty).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Classify(server->stub(), "no-such-model-" + std::to_string(i), {"x"}).status.error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  ASSERT_EQ(Classify(server->stub(), "cb", {"x"}, 7).status.error_code(), grpc::StatusCode::NOT_FOUND);
  // More texts than the queue holds: shed at once.
  const std::vector<std::string> many(9, "a headline");
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(Classify(server->stub(), "cb", many).status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  const auto samples = Scrape(server->server().metrics_port());
  const std::string requests = "textclf_requests_total";
  EXPECT_EQ(Sum(samples, requests, {{"method", "Classify"}, {"model", "cb"}, {"version", "1"}, {"code", "OK"}}), 1);
  EXPECT_EQ(Sum(samples, requests, {{"method", "Classify"}, {"model", "cb"}, {"code", "INVALID_ARGUMENT"}}), 3);
  EXPECT_EQ(Sum(samples, requests, {{"method", "Classify"}, {"model", "cb"}, {"code", "RESOURCE_EXHAUSTED"}}), 4);
  EXPECT_EQ(Sum(samples, requests, {{"method", "Classify"}, {"model", "cb"}, {"code", "NOT_FOUND"}}), 1);
  // Made-up names never become labels: those refusals count under an empty model.
  EXPECT_EQ(Sum(samples, requests, {{"method", "Classify"}, {"model", ""}, {"code", "NOT_FOUND"}}), 2);
  for (const PromSample& s : samples) {
    if (auto it = s.labels.find("model"); it != s.labels.end()) EXPECT_THAT(it->second, ::testing::Not(StartsWith("no-such")));
  }
  EXPECT_EQ(Sum(samples, "textclf_grpc_requests_total", {{"method", "Classify"}}), 11);
  // ModelStatistics shows the same outcomes.
  grpc::ClientContext context;
  v1::ModelStatisticsRequest request;
  request.set_model("cb");
  v1::ModelStatisticsResponse statistics;
  ASSERT_TRUE(server->stub().ModelStatistics(&context, request, &statistics).ok());
  std::map<std::string, int64_t> codes;
  for (const auto& v : statistics.versions()) {
    for (const auto& [code, n] : v.requests_by_code()) codes[code] += n;
  }
  EXPECT_EQ(codes["OK"], 1);
  EXPECT_EQ(codes["RESOURCE_EXHAUSTED"], 4);
  EXPECT_EQ(codes["INVALID_ARGUMENT"], 3);
  // The process and the build.
  EXPECT_GT(Sum(samples, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(Sum(samples, "process_threads"), 1);
  EXPECT_GT(Sum(samples, "process_open_fds"), 2);
  EXPECT_TRUE(Has(samples, "textclf_build_info"));
}

TEST_F(OperabilityTest, AFailedModelIsNotServingAndStrictReadinessSaysSo) {
  // Damage the only version's dictionary: it will fail to load.
  const fs::path dicts = root_.path() / "cb" / "1" / "dicts";
  const std::vector<std::string> files = DirEntries(dicts);
  ASSERT_FALSE(files.empty());
  {
    std::fstream f(dicts / files.front(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(Health(channel, "textclf.v1.Classifier/cb"), HealthStatus::NOT_SERVING);
  EXPECT_EQ(Health(channel, ""), HealthStatus::NOT_SERVING);
  EXPECT_EQ(Health(channel, "textclf.v1.Classifier"), HealthStatus::NOT_SERVING);
  const auto samples = Scrape(server->server().metrics_port());
  EXPECT_EQ(Sum(samples, "textclf_model_state", {{"model", "cb"}, {"version", "1"}, {"state", "failed"}}), 1);
  EXPECT_FALSE(Has(samples, "textclf_model_state", {{"model", "cb"}, {"state", "loaded"}}));
  // A healthy model next to it: its own entry serves, the strict overall entries do not.
  ASSERT_TRUE(Train(server->stub(), ZestStart("good"), ClickbaitSlice(100)).status.ok());
  EXPECT_TRUE(Eventually([&] {
    return Health(channel, "textclf.v1.Classifier/good") == HealthStatus::SERVING;
  }));
  EXPECT_EQ(Health(channel, ""), HealthStatus::NOT_SERVING);
  // Without strict readiness the process serves what it can.
  server->Stop();
  auto lenient = Start([](v1::ServerConfig& c) { c.set_strict_readiness(false); });
  ASSERT_NE(lenient, nullptr);
  auto lenient_channel = grpc::CreateChannel(lenient->address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(Health(lenient_channel, ""), HealthStatus::SERVING);
  EXPECT_EQ(Health(lenient_channel, "textclf.v1.Classifier/cb"), HealthStatus::NOT_SERVING);
}

TEST_F(OperabilityTest, EvaluationGaugesComeBackAfterARestartAndSeriesGoWithTheVersion) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  // Recorded by the training's EVAL split in another process; this one only loaded the version.
  std::vector<PromSample> samples;
  ASSERT_TRUE(Eventually([&] {
    samples = Scrape(server->server().metrics_port());
    return Has(samples, "textclf_model_accuracy", {{"model", "cb"}, {"version", "1"}, {"dataset", "eval"}});
  })) << "no accuracy gauge for the recorded evaluation";
  EXPECT_GT(Sum(samples, "textclf_model_accuracy", {{"model", "cb"}, {"version", "1"}}), 0.5);
  EXPECT_FALSE(Has(samples, "textclf_online_accuracy")) << "online accuracy before any feedback";
  EXPECT_EQ(Sum(samples, "textclf_model_state", {{"model", "cb"}, {"version", "1"}, {"state", "loaded"}}), 1);
  ASSERT_TRUE(Classify(server->stub(), "cb", {"Cats are funny"}).status.ok());
  // A second version, then the first deleted: nothing of version 1 stays exported.
  ASSERT_TRUE(Train(server->stub(), ZestStart("cb"), ClickbaitSlice(100)).status.ok());
  ASSERT_TRUE(DeleteModel(server->stub(), "cb", 1).status.ok());
  ASSERT_TRUE(Eventually([&] {
    samples = Scrape(server->server().metrics_port());
    for (const PromSample& s : samples) {
      auto v = s.labels.find("version");
      if (s.labels.count("model") && s.labels.at("model") == "cb" && v != s.labels.end() && v->second == "1") {
        return false;
      }
    }
    return true;
  })) << "series of the deleted version 1 are still exported";
  EXPECT_TRUE(Has(samples, "textclf_model_state", {{"model", "cb"}, {"version", "2"}, {"state", "loaded"}}));
}

// The real binary with --log-format json: every line is a JSON object, and a call's trace id is
// in its log line and in its request id.
TEST(OperabilityLog, JsonLinesCarryTheTraceIdSent) {
  TempDir root;
  {
    auto trainer = TestServer::Start(root.path());
    ASSERT_NE(trainer, nullptr);
    ASSERT_TRUE(Train(trainer->stub(), ZestStart("cb"), ClickbaitSlice(100)).status.ok());
  }
  auto server = ServerProcess::Start(TEXTCLF_SERVER_PATH, {"--models", root.path().string(), "--threads", "2",
                                                           "--log-format", "json", "--log-calls", "1"});
  ASSERT_NE(server, nullptr);
  auto stub = v1::Classifier::NewStub(grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  grpc::ClientContext context;
  context.AddMetadata("traceparent", "00-" + trace + "-00f067aa0ba902b7-01");
  v1::ClassifyRequest request;
  request.set_model("cb");
  request.add_texts("You Won't Believe This");
  v1::ClassifyResponse response;
  ASSERT_TRUE(stub->Classify(&context, request, &response).ok());
  EXPECT_THAT(response.request_id(), StartsWith(trace + "-"));
  server->Signal(SIGTERM);
  ASSERT_EQ(server->WaitForExit(std::chrono::seconds(20)), 0);
  bool call_logged = false, serving_logged = false;
  std::istringstream lines(server->log());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    nlohmann::json event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(event.is_object()) << "not a JSON object: " << line;
    EXPECT_TRUE(event.contains("ts") && event.contains("level") && event.contains("event")) << line;
    if (event["event"] == "serving") {
      serving_logged = event.value("port", 0) == server->port();
      // The server runs on OpenBLAS's fastest kernels for this CPU: on one that bookworm's
      // OpenBLAS does not know, it ran itself again with OPENBLAS_CORETYPE set.
      const std::string here = torch_support::LoadedOpenBlasCore();
      const std::string forced = torch_support::OpenBlasCoreToForce(here, torch_support::DetectCpuVectorUnits());
      const bool preset = std::getenv("OPENBLAS_CORETYPE") != nullptr;
      EXPECT_EQ(event.value("openblas_core", "?"), forced.empty() || preset ? here : forced) << line;
    }
    if (event["event"] == "call" && event.value("trace_id", "") == trace) {
      call_logged = true;
      EXPECT_EQ(event.value("rpc", ""), "Classify");
      EXPECT_EQ(event.value("code", ""), "OK");
      EXPECT_EQ(event.value("model", ""), "cb");
    }
  }
  EXPECT_TRUE(serving_logged);
  EXPECT_TRUE(call_logged) << server->log();
}

}  // namespace
}  // namespace textclf::testing
