// upload_bench: what hostile uploads can make the server hold. Several Train streams at once send
// 1-byte texts (the case the old payload-only accounting under-counted about 60 times) until the
// server refuses them; the bench reports, as one JSON object, the examples each stream got in,
// how each ended, and the process's resident memory before, at its peak and after. The server
// runs in process, with max_train_bytes and max_buffered_train_bytes as given.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/process_footprint.h"
#include "server/server.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::bench {
namespace {

struct Options {
  int streams = 8;
  int64_t max_train_bytes = int64_t{64} << 20;
  int64_t max_buffered_train_bytes = int64_t{256} << 20;
  int batch = 10000;
};

double ResidentMiB() { return ProcessFootprint().resident_mib; }

int Run(const Options& o) {
  const auto root = std::filesystem::temp_directory_path() / ("textclf-upload-" + std::to_string(::getpid()));
  v1::ServerConfig config;
  config.set_models_dir(root.string());
  config.set_port(0);
  config.set_host("127.0.0.1");
  config.set_metrics_port(-1);
  config.mutable_limits()->set_max_train_bytes(o.max_train_bytes);
  config.mutable_limits()->set_max_buffered_train_bytes(o.max_buffered_train_bytes);
  config.mutable_limits()->set_max_concurrent_jobs(o.streams);
  config.mutable_limits()->set_max_queued_jobs(o.streams);
  config.mutable_limits()->set_max_concurrent_streams(o.streams + 1);
  auto server = server::Server::Start(config);
  if (!server.ok()) {
    std::cerr << "upload_bench: " << server.status() << "\n";
    return 1;
  }
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  const double rss_before = ResidentMiB();
  std::atomic<bool> done{false};
  std::atomic<double> rss_peak{rss_before};
  std::thread sampler([&] {
    while (!done.load()) {
      rss_peak.store(std::max(rss_peak.load(), ResidentMiB()));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<int64_t> accepted(o.streams, 0);
  std::vector<std::string> endings(o.streams);
  // Every stream stays open, holding what it sent, until all have been refused.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(o.streams);
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::TrainRequest, v1::TrainResponse>>> open(o.streams);
  std::vector<std::thread> senders;
  for (int s = 0; s < o.streams; ++s) {
    senders.emplace_back([&, s] {
      auto stub = v1::Classifier::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      contexts[s] = std::make_unique<grpc::ClientContext>();
      open[s] = stub->Train(contexts[s].get());
      v1::TrainRequest request;
      request.mutable_start()->set_model("upload" + std::to_string(s));
      request.mutable_start()->set_family(v1::ZEST);
      open[s]->Write(request);
      request.Clear();
      for (int i = 0; i < o.batch; ++i) {
        v1::Example* e = request.mutable_batch()->add_examples();
        e->set_text(i % 2 ? "a" : "b");
        e->set_label(i % 2 ? "x" : "y");
      }
      // Writes succeed until the server answers (and so refuses) the call.
      while (open[s]->Write(request)) accepted[s] += o.batch;
      open[s]->WritesDone();
      v1::TrainResponse response;
      while (open[s]->Read(&response)) {
      }
      grpc::Status status = open[s]->Finish();
      endings[s] = status.ok() ? "OK" : status.error_message();
    });
  }
  for (auto& t : senders) t.join();
  const double rss_end = ResidentMiB();
  done = true;
  sampler.join();
  (*server)->Shutdown(5);
  server->reset();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  int64_t total = 0;
  for (int64_t n : accepted) total += n;
  nlohmann::json out;
  out["bench"] = "upload";
  out["streams"] = o.streams;
  out["max_train_bytes"] = o.max_train_bytes;
  out["max_buffered_train_bytes"] = o.max_buffered_train_bytes;
  out["examples_sent_per_stream"] = accepted;
  out["examples_sent_total"] = total;
  out["endings"] = endings;
  out["rss_mb"] = {{"before", rss_before}, {"peak", rss_peak.load()}, {"end", rss_end}};
  out["rss_growth_mb"] = rss_peak.load() - rss_before;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  textclf::bench::Options o;
  CLI::App app{"upload_bench: what hostile Train uploads of 1-byte texts make the server hold"};
  app.add_option("--streams", o.streams, "Train streams at once (default 8)");
  app.add_option("--max-train-bytes", o.max_train_bytes, "the server's max_train_bytes (default 64 MiB)");
  app.add_option("--max-buffered-train-bytes", o.max_buffered_train_bytes,
                 "the server's max_buffered_train_bytes (default 256 MiB)");
  app.add_option("--batch", o.batch, "examples per message (default 10000)");
  CLI11_PARSE(app, argc, argv);
  return textclf::bench::Run(o);
}
