// batching_bench: the same model served with dynamic batching on and off, under closed-loop load
// at several concurrencies; one JSON object per step (throughput and latency percentiles).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_datasets.h"
#include "client/loadgen/channel_pool.h"
#include "client/loadgen/load_runner.h"
#include "client/loadgen/options.h"
#include "client/loadgen/report.h"
#include "client/loadgen/senders.h"
#include "core/common/thread_pool.h"
#include "core/data/data_dir.h"
#include "core/model/family_names.h"
#include "server/server.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::bench {
namespace {

struct Options {
  std::string data_dir = data::DataDir().string();
  std::string family = "zest";
  std::vector<int> concurrency = {1, 8, 32, 128};
  int batch_size = 1;
  double duration_s = 3;
  double warmup_s = 0.5;
  int threads = 0;
  int64_t max_queue_delay_us = -1;  // -1: the family's default
};

// Trains the benchmark model through the server's Train RPC, from the clickbait study split.
int TrainModel(const std::string& address, const data::Dataset& d, v1::Family family) {
  auto stub = v1::Classifier::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Train(&context);
  v1::TrainRequest request;
  request.mutable_start()->set_model("bench");
  request.mutable_start()->set_family(family);
  stream->Write(request);
  request.Clear();
  for (size_t i = 0; i < d.train_texts.size(); ++i) {
    auto* e = request.mutable_batch()->add_examples();
    e->set_text(d.train_texts[i]);
    e->set_label(d.classes[d.train_labels[i]]);
    if (request.batch().examples_size() == 2000 || i + 1 == d.train_texts.size()) {
      stream->Write(request);
      request.Clear();
    }
  }
  stream->WritesDone();
  v1::TrainResponse response;
  while (stream->Read(&response)) {
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    std::cerr << "batching_bench: training failed: " << status.error_message() << "\n";
    return 1;
  }
  return 0;
}

// Starts a server on `root`, with the model's batching on or off.
absl::StatusOr<std::unique_ptr<server::Server>> StartServer(const std::filesystem::path& root, bool batching,
                                                            const Options& o) {
  const int threads = o.threads;
  v1::ServerConfig config;
  config.set_models_dir(root.string());
  config.set_port(0);
  config.set_host("127.0.0.1");
  config.set_metrics_port(-1);
  config.set_threads(threads);
  v1::BatchingConfig* b = (*config.mutable_model_overrides())["bench"].mutable_batching();
  if (!batching) b->set_disabled(true);
  // Zero means "default" in the config, so a delay of 0 is asked for as 1 us.
  if (o.max_queue_delay_us >= 0) b->set_max_queue_delay_us(std::max<int64_t>(1, o.max_queue_delay_us));
  return server::Server::Start(config);
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  using namespace textclf;
  bench::Options o;
  CLI::App app{"batching_bench: throughput and latency with dynamic batching on and off"};
  app.add_option("--data", o.data_dir, "data folder (default $TEXTCLF_DATA or ../shared/data)");
  app.add_option("--family", o.family, "model family to train and serve")->capture_default_str();
  app.add_option("--concurrency", o.concurrency, "closed-loop concurrency levels")->delimiter(',');
  app.add_option("--batch-size", o.batch_size, "texts per request")->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds measured per step")->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds of warm-up per step")->capture_default_str();
  app.add_option("--threads", o.threads, "server CPU threads (default: all cores)");
  app.add_option("--max-queue-delay-us", o.max_queue_delay_us, "batching delay (default: the family's)");
  CLI11_PARSE(app, argc, argv);
  auto family = ParseFamily(o.family);
  if (!family.ok()) {
    std::cerr << "batching_bench: " << family.status().message() << "\n";
    return 2;
  }
  auto dataset = bench::LoadBenchDataset(o.data_dir, "clickbait", "study");
  if (!dataset.ok()) {
    std::cerr << "batching_bench: " << dataset.status().message() << "\n";
    return 1;
  }
  const auto root = std::filesystem::temp_directory_path() / ("batching-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  loadgen::Workload workload;
  workload.texts = dataset->test_texts;
  int rc = 0;
  for (bool batching : {true, false}) {
    auto server = bench::StartServer(root, batching, o);
    if (!server.ok()) {
      std::cerr << "batching_bench: " << server.status().message() << "\n";
      return 1;
    }
    const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
    if (batching && (rc = bench::TrainModel(address, *dataset, *family)) != 0) return rc;
    loadgen::Options options;
    options.targets = {address};
    options.model = "bench";
    options.batch_size = o.batch_size;
    options.concurrency = o.concurrency;
    options.duration_s = o.duration_s;
    options.warmup_s = o.warmup_s;
    options.timeout_s = 30;
    loadgen::ChannelPool pool(options.targets, 1);
    loadgen::SenderSettings settings;
    settings.model = "bench";
    settings.batch_size = o.batch_size;
    settings.timeout_s = options.timeout_s;
    auto sender = loadgen::MakeClassifySender(pool, workload, settings);
    std::atomic<bool> stop{false};
    loadgen::RunSweep(options, *sender, stop, [&](const loadgen::StepResult& step) {
      nlohmann::ordered_json line;
      line["model"] = "bench";
      line["family"] = o.family;
      line["batching"] = batching;
      line["max_queue_delay_us"] = o.max_queue_delay_us;
      const nlohmann::ordered_json measured = loadgen::StepToJson(step);
      for (auto& [key, value] : measured.items()) line[key] = value;
      std::cout << line.dump() << std::endl;
    });
    (*server)->Shutdown(1.0);
  }
  std::filesystem::remove_all(root);
  return 0;
}
