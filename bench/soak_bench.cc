// soak_bench: the server under mixed load for minutes: Classify from several clients (batches up
// to twice max_batch_size, so requests split), a trainer publishing new versions, deletes of old
// ones, unloads and loads, evaluations, and hostile calls (bad input, unknown models, idle
// streams). Prints one JSON object: calls by kind and status code, unexpected errors (anything
// but OK and the refusals each hostile call must get), and the process's resident memory and
// thread count sampled once a second. Exits 1 on any unexpected error.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_datasets.h"
#include "bench/datasets/data_dir.h"
#include "bench/process_footprint.h"
#include "core/torch/openblas_kernel.h"
#include "server/server.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string data_dir = data::DataDir().string();
  double duration_s = 120;
  int clients = 4;
  int threads = 0;
  int train_examples = 2000;
};

// Calls by kind and code, and those that were not what the call should get.
class Tally {
 public:
  void Add(const std::string& kind, const grpc::Status& status, const std::set<grpc::StatusCode>& expected) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[kind][CodeName(status.error_code())];
    if (!expected.count(status.error_code())) {
      ++unexpected_;
      if (examples_.size() < 20) examples_.push_back(kind + ": " + CodeName(status.error_code()) + ": " + status.error_message());
    }
  }
  nlohmann::json Json() const {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [kind, codes] : counts_) out[kind] = codes;
    return out;
  }
  int64_t unexpected() const {
    std::lock_guard<std::mutex> lock(mu_);
    return unexpected_;
  }
  std::vector<std::string> examples() const {
    std::lock_guard<std::mutex> lock(mu_);
    return examples_;
  }
  int64_t count(const std::string& kind, const std::string& code) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto k = counts_.find(kind);
    if (k == counts_.end()) return 0;
    auto c = k->second.find(code);
    return c == k->second.end() ? 0 : c->second;
  }

  static std::string CodeName(grpc::StatusCode code) {
    static const char* names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                  "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                  "UNAUTHENTICATED"};
    const int i = static_cast<int>(code);
    return i >= 0 && i < 17 ? names[i] : "?";
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, int64_t>> counts_;
  int64_t unexpected_ = 0;
  std::vector<std::string> examples_;
};

std::chrono::system_clock::time_point Deadline(double seconds) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

grpc::Status TrainZest(v1::Classifier::Stub& stub, const std::string& name, const data::Dataset& data, size_t offset,
                       size_t count) {
  grpc::ClientContext context;
  context.set_deadline(Deadline(120));
  auto stream = stub.Train(&context);
  v1::TrainRequest request;
  request.mutable_start()->set_model(name);
  request.mutable_start()->set_family(v1::ZEST);
  stream->Write(request);
  request.Clear();
  // A stride through the training side: its rows are grouped by class.
  for (size_t i = 0; i < count; ++i) {
    const size_t j = (offset + i * 7919) % data.train_texts.size();
    v1::Example* e = request.mutable_batch()->add_examples();
    e->set_text(data.train_texts[j]);
    e->set_label(data.classes[data.train_labels[j]]);
  }
  stream->Write(request);
  stream->WritesDone();
  v1::TrainResponse response;
  while (stream->Read(&response)) {
  }
  return stream->Finish();
}

int Run(const Options& o) {
  auto data = LoadBenchDataset(o.data_dir, "clickbait", "split");
  if (!data.ok()) {
    std::cerr << "soak_bench: " << data.status() << "\n";
    return 2;
  }
  const auto root = std::filesystem::temp_directory_path() / ("textclf-soak-" + std::to_string(::getpid()));
  v1::ServerConfig config;
  config.set_models_dir(root.string());
  config.set_port(0);
  config.set_host("127.0.0.1");
  config.set_metrics_port(-1);
  config.set_threads(o.threads);
  config.mutable_version_policy()->set_latest(2);
  config.mutable_limits()->set_stream_idle_timeout_s(2);
  auto server = server::Server::Start(config);
  if (!server.ok()) {
    std::cerr << "soak_bench: " << server.status() << "\n";
    return 1;
  }
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = v1::Classifier::NewStub(channel);
  if (grpc::Status s = TrainZest(*stub, "soak", *data, 0, o.train_examples); !s.ok()) {
    std::cerr << "soak_bench: the first training failed: " << s.error_message() << "\n";
    return 1;
  }

  Tally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const std::set<grpc::StatusCode> ok = {grpc::StatusCode::OK};
  // Classify: the latest version while versions come and go; batches of 1 to 512 texts (the
  // Zest default max_batch_size is 256).
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      auto client = v1::Classifier::NewStub(channel);
      std::mt19937 rng(c);
      while (!stop.load()) {
        v1::ClassifyRequest request;
        request.set_model("soak");
        const int n = std::uniform_int_distribution<int>(1, 512)(rng);
        for (int i = 0; i < n; ++i) request.add_texts(data->test_texts[rng() % data->test_texts.size()]);
        grpc::ClientContext context;
        context.set_deadline(Deadline(30));
        v1::ClassifyResponse response;
        tally.Add("classify", client->Classify(&context, request, &response), ok);
      }
    });
  }
  // A trainer that publishes, and keeps three versions: each new one loads, the oldest goes.
  threads.emplace_back([&] {
    auto client = v1::Classifier::NewStub(channel);
    size_t offset = 0;
    while (!stop.load()) {
      offset += 500;
      tally.Add("train", TrainZest(*client, "soak", *data, offset, 1000), ok);
      grpc::ClientContext context;
      v1::GetModelRequest get;
      get.set_name("soak");
      v1::ModelInfo info;
      grpc::Status got = client->GetModel(&context, get, &info);
      tally.Add("get_model", got, ok);
      if (!got.ok() || info.versions_size() <= 3) continue;
      // Unload, load back, then delete the oldest version.
      const int64_t oldest = info.versions(0).version();
      for (const char* what : {"unload", "load", "delete"}) {
        grpc::ClientContext c2;
        grpc::Status s;
        if (std::string(what) == "unload") {
          v1::UnloadModelRequest r;
          r.set_name("soak");
          r.set_version(oldest);
          v1::ModelInfo out;
          s = client->UnloadModel(&c2, r, &out);
        } else if (std::string(what) == "load") {
          v1::LoadModelRequest r;
          r.set_name("soak");
          r.set_version(oldest);
          v1::ModelInfo out;
          s = client->LoadModel(&c2, r, &out);
        } else {
          v1::DeleteModelRequest r;
          r.set_name("soak");
          r.set_version(oldest);
          v1::DeleteModelResponse out;
          s = client->DeleteModel(&c2, r, &out);
        }
        tally.Add(what, s, ok);
      }
    }
  });
  // Evaluations, as bulk work beside the interactive traffic.
  threads.emplace_back([&] {
    auto client = v1::Classifier::NewStub(channel);
    while (!stop.load()) {
      grpc::ClientContext context;
      context.set_deadline(Deadline(60));
      v1::EvaluateResponse response;
      auto writer = client->Evaluate(&context, &response);
      v1::EvaluateRequest request;
      request.mutable_start()->set_model("soak");
      request.mutable_start()->set_dataset("soak");
      writer->Write(request);
      request.Clear();
      for (size_t i = 0; i < 1000; ++i) {
        v1::Example* e = request.mutable_batch()->add_examples();
        e->set_text(data->test_texts[i % data->test_texts.size()]);
        e->set_label(data->classes[data->test_labels[i % data->test_labels.size()]]);
      }
      writer->Write(request);
      writer->WritesDone();
      // NOT_FOUND when the trainer deleted the evaluated version before its metrics were recorded.
      tally.Add("evaluate", writer->Finish(), {grpc::StatusCode::OK, grpc::StatusCode::NOT_FOUND});
    }
  });
  // Hostile calls, each with the refusal it must get.
  threads.emplace_back([&] {
    auto client = v1::Classifier::NewStub(channel);
    std::mt19937 rng(99);
    while (!stop.load()) {
      v1::ClassifyRequest request;
      grpc::StatusCode want;
      switch (rng() % 4) {
        case 0: request.set_model(""); request.add_texts("x"); want = grpc::StatusCode::INVALID_ARGUMENT; break;
        case 1: request.set_model("no-such-model"); request.add_texts("x"); want = grpc::StatusCode::NOT_FOUND; break;
        case 2: request.set_model("soak"); request.add_texts(std::string(70000, 'a')); want = grpc::StatusCode::INVALID_ARGUMENT; break;
        default: request.set_model("soak"); request.add_texts("\xff\xfe"); want = grpc::StatusCode::INVALID_ARGUMENT; break;
      }
      grpc::ClientContext context;
      context.set_deadline(Deadline(10));
      v1::ClassifyResponse response;
      tally.Add("hostile_classify", client->Classify(&context, request, &response), {want});
      // A Train stream that sends its start and then nothing: the server cuts it after 2 s.
      if (rng() % 20 == 0) {
        grpc::ClientContext idle;
        idle.set_deadline(Deadline(30));
        auto stream = client->Train(&idle);
        v1::TrainRequest start;
        start.mutable_start()->set_model("idle");
        start.mutable_start()->set_family(v1::ZEST);
        stream->Write(start);
        v1::TrainResponse response;
        while (stream->Read(&response)) {
        }
        grpc::Status s = stream->Finish();
        tally.Add("idle_stream", s, {grpc::StatusCode::CANCELLED, grpc::StatusCode::DEADLINE_EXCEEDED});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // Footprint once a second; the first sample after a warm-up of a tenth of the run.
  const auto start = Clock::now();
  const auto end = start + std::chrono::milliseconds(static_cast<int64_t>(o.duration_s * 1000));
  const auto warm = start + std::chrono::milliseconds(static_cast<int64_t>(o.duration_s * 100));
  double rss_first = 0, rss_max = 0, rss_last = 0;
  int threads_first = 0, threads_max = 0, threads_last = 0;
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const Footprint footprint = ProcessFootprint();
    const double rss = footprint.resident_mib;
    const int count = footprint.threads;
    if (Clock::now() < warm) continue;
    if (rss_first == 0) {
      rss_first = rss;
      threads_first = count;
    }
    rss_max = std::max(rss_max, rss);
    threads_max = std::max(threads_max, count);
    rss_last = rss;
    threads_last = count;
  }
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  (*server)->Shutdown(5);
  server->reset();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);

  nlohmann::json out;
  out["bench"] = "soak";
  out["duration_s"] = seconds;
  out["clients"] = o.clients;
  out["calls"] = tally.Json();
  out["classify_ok_per_s"] = tally.count("classify", "OK") / seconds;
  out["unexpected_errors"] = tally.unexpected();
  out["unexpected_examples"] = tally.examples();
  out["rss_mb"] = {{"after_warmup", rss_first}, {"max", rss_max}, {"end", rss_last}};
  out["threads"] = {{"after_warmup", threads_first}, {"max", threads_max}, {"end", threads_last}};
  std::cout << out.dump() << std::endl;
  return tally.unexpected() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  textclf::torch_support::UseFastestOpenBlasKernel(argv);  // before any thread starts
  textclf::bench::Options o;
  CLI::App app{"soak_bench: mixed Classify/Train/Delete/Load/Evaluate and hostile calls for minutes"};
  app.add_option("--data", o.data_dir, "data folder (TEXTCLF_DATA)");
  app.add_option("--duration", o.duration_s, "seconds (default 120)");
  app.add_option("--clients", o.clients, "Classify clients (default 4)");
  app.add_option("--threads", o.threads, "server CPU threads (default all cores)");
  app.add_option("--train-examples", o.train_examples, "examples of the first training (default 2000)");
  CLI11_PARSE(app, argc, argv);
  return textclf::bench::Run(o);
}
