// zest_bench: trains a Zest model on a real data set and measures training time, classification
// throughput and quality, in process or through the gRPC server, next to bare zstd doing the
// same compressions. Prints one JSON object per run.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_datasets.h"
#include "core/common/cancellation.h"
#include "core/common/proto_json.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"
#include "bench/datasets/data_dir.h"
#include "core/eval/metrics_accumulator.h"
#include "core/families/families.h"
#include "core/jobs/training_job.h"
#include "core/registry/model_manager.h"
#include "core/zest/zest_model.h"
#include "server/server.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::bench {
namespace {

struct Options {
  std::string data_dir = data::DataDir().string();
  std::string dataset = "clickbait";
  std::string protocol = "study";
  int threads = 0;
  bool served = false;
  int served_batch = 64;
  int concurrency = 4;
  int batch_size = 1024;
  std::string config;  // ModelConfig JSON
  std::string preset;  // "fast"
  bool json = false;
  bool verbose = false;
  bool search_preset = false;
  int repeat = 3;
};

std::filesystem::path TempRepository() {
  auto dir = std::filesystem::temp_directory_path() / ("zest-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

// The faster preset for binary models: level 3 with 3 dictionaries per class, the fastest
// candidate of --search-preset whose validation AUC stayed within 0.002 of the default's.
void ApplyPreset(const std::string& preset, v1::ModelConfig* config) {
  if (preset == "fast") {
    config->mutable_zest()->set_level(3);
    config->mutable_zest()->set_max_dicts(3);
  }
}

// Bare zstd: the same (text, dictionary) compressions the model makes, dictionary-major over the
// same chunks, with nothing around them.
double RawZstdDocsPerSecond(const zest::ZestModel& model, const ModelFiles& files,
                            const std::vector<std::string>& texts, size_t batch_size, ThreadPool* pool) {
  const v1::ZestState& state = model.manifest().zest();
  const int level = state.resolved().level();
  const bool binary = state.resolved().mode() == v1::ZestConfig::BINARY;
  std::vector<ZSTD_CDict*> dicts;
  for (const auto& cls : state.classes()) {
    for (const auto& d : cls.dictionaries()) {
      std::string_view content = *files.Get(d.file());
      dicts.push_back(ZSTD_createCDict(content.data(), content.size(), level));
    }
  }
  std::vector<std::string> prepared(texts.size());
  std::string scratch;
  for (size_t i = 0; i < texts.size(); ++i) model.preprocessor().PrepareForScoring(texts[i], &prepared[i], &scratch);
  std::atomic<size_t> sink{0};
  auto run_chunk = [&](size_t begin, size_t end) {
    thread_local ZSTD_CCtx* cctx = [] {
      ZSTD_CCtx* c = ZSTD_createCCtx();
      ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
      ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
      ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
      return c;
    }();
    thread_local std::string out;
    size_t total = 0;
    for (ZSTD_CDict* dict : dicts) {
      ZSTD_CCtx_refCDict(cctx, dict);
      for (size_t i = begin; i < end; ++i) {
        out.resize(ZSTD_compressBound(prepared[i].size()));
        total += ZSTD_compress2(cctx, out.data(), out.size(), prepared[i].data(), prepared[i].size());
      }
    }
    ZSTD_CCtx_refCDict(cctx, nullptr);
    if (binary) {
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
      for (size_t i = begin; i < end; ++i) {
        out.resize(ZSTD_compressBound(prepared[i].size()));
        total += ZSTD_compress2(cctx, out.data(), out.size(), prepared[i].data(), prepared[i].size());
      }
    }
    sink += total;
  };
  Stopwatch watch;
  const size_t threads = pool ? pool->size() + 1 : 1;
  for (size_t begin = 0; begin < prepared.size(); begin += batch_size) {
    const size_t n = std::min(batch_size, prepared.size() - begin);
    const size_t grain = zest::ZestModel::ChunkSize(n, threads);
    if (pool != nullptr && n >= 8) {
      pool->ParallelFor(n, grain, [&](size_t b, size_t e) { run_chunk(begin + b, begin + e); });
    } else {
      run_chunk(begin, begin + n);
    }
  }
  const double seconds = watch.seconds();
  for (ZSTD_CDict* d : dicts) ZSTD_freeCDict(d);
  return texts.size() / seconds;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void AddMetrics(const v1::EvalMetrics& m, nlohmann::json* out) {
  (*out)["accuracy"] = m.accuracy();
  (*out)["macro_f1"] = m.macro_f1();
  if (m.has_auc()) (*out)["auc"] = m.auc();
  (*out)["ece"] = m.ece();
}

int RunInProcess(const Options& o, const data::Dataset& d, const v1::ModelConfig& config, nlohmann::json* out) {
  const auto root = TempRepository();
  registry::Repository repository(root);
  if (auto s = repository.Initialize(); !s.ok()) return (std::cerr << s.message() << "\n", 1);
  v1::VersionPolicy policy;
  policy.set_latest(1);
  registry::ModelManager models(&repository, &BuiltInFamilies(), policy);
  std::unique_ptr<ThreadPool> pool = o.threads == 1 ? nullptr : std::make_unique<ThreadPool>(o.threads - 1);
  TrainingSet data;
  data.classes = d.classes;
  data.texts = d.train_texts;
  data.labels = d.train_labels;
  v1::TrainStart start;
  start.set_model("bench");
  start.set_family(v1::ZEST);
  *start.mutable_config() = config;
  CancellationToken cancel;
  ThreadPool train_pool(o.threads);
  Stopwatch stages;
  auto outcome = RunTrainingJob(start, data, models, train_pool, cancel,
                                [&](std::string_view stage, double, std::string_view message) {
                                  if (o.verbose) std::cerr << stages.seconds() << " " << stage << ": " << message << "\n";
                                });
  if (!outcome.ok()) return (std::cerr << outcome.status().message() << "\n", 1);
  auto loaded = models.Get("bench", 0);
  if (!loaded.ok()) return (std::cerr << loaded.status().message() << "\n", 1);
  const auto& model = static_cast<const zest::ZestModel&>(**loaded);

  Device device{Device::Kind::kCpu, 0, pool.get()};
  std::vector<ModelInput> inputs;
  ScoreMatrix scores;
  eval::MetricsAccumulator metrics(d.classes, model.positive_class());
  // Warm-up: thread-local contexts and buffers.
  inputs.push_back(ModelInput{d.test_texts[0], nullptr});
  (void)model.Run(inputs, device, &scores);
  std::vector<ScoreMatrix> results;
  auto classify_all = [&] {
    results.clear();
    Stopwatch watch;
    for (size_t begin = 0; begin < d.test_texts.size(); begin += o.batch_size) {
      inputs.clear();
      for (size_t i = begin; i < std::min(d.test_texts.size(), begin + o.batch_size); ++i) {
        inputs.push_back(ModelInput{d.test_texts[i], nullptr});
      }
      results.emplace_back();
      (void)model.Run(inputs, device, &results.back());
    }
    return d.test_texts.size() / watch.seconds();
  };
  auto files = repository.ReadVerifiedFiles(model.manifest());
  // Model and bare zstd take turns, so that a noisy neighbour slows both alike; medians are
  // reported, and the ratio is the median of the per-turn ratios.
  std::vector<double> ours, raw, ratios;
  for (int r = 0; r < o.repeat; ++r) {
    ours.push_back(classify_all());
    raw.push_back(RawZstdDocsPerSecond(model, *files, d.test_texts, o.batch_size, pool.get()));
    ratios.push_back(ours.back() / raw.back());
  }
  size_t k = 0;
  for (const ScoreMatrix& r : results) {
    for (size_t i = 0; i < r.rows; ++i, ++k) {
      metrics.Add(d.test_labels[k], static_cast<int>(r.Argmax(i)), std::span<const float>(r.probability_row(i), r.cols),
                  model.positive_class() >= 0 ? r.score_row(i)[model.positive_class()] : 0.0);
    }
  }
  (*out)["train_s"] = outcome->seconds;
  (*out)["classify_docs_per_s"] = Median(ours);
  (*out)["classify_docs_per_s_max"] = *std::max_element(ours.begin(), ours.end());
  (*out)["zstd_raw_docs_per_s"] = Median(raw);
  (*out)["ratio_to_raw"] = Median(ratios);
  (*out)["repeat"] = o.repeat;
  (*out)["batch_size"] = o.batch_size;
  AddMetrics(metrics.Finish(), out);
  int dicts = 0;
  for (const auto& c : model.manifest().zest().classes()) dicts += c.dictionaries_size();
  (*out)["dictionaries"] = dicts;
  (*out)["primary_dict_size"] = model.manifest().zest().primary_dict_size();
  std::filesystem::remove_all(root);
  return 0;
}

int RunServed(const Options& o, const data::Dataset& d, const v1::ModelConfig& config, nlohmann::json* out) {
  const auto root = TempRepository();
  v1::ServerConfig server_config;
  server_config.set_models_dir(root.string());
  server_config.set_port(0);
  server_config.set_metrics_port(0);
  server_config.set_host("127.0.0.1");
  server_config.set_threads(o.threads);
  auto server = server::Server::Start(server_config);
  if (!server.ok()) return (std::cerr << server.status().message() << "\n", 1);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials());
  auto stub = v1::Classifier::NewStub(channel);

  Stopwatch train_watch;
  {
    grpc::ClientContext context;
    auto stream = stub->Train(&context);
    v1::TrainRequest request;
    request.mutable_start()->set_model("bench");
    request.mutable_start()->set_family(v1::ZEST);
    *request.mutable_start()->mutable_config() = config;
    for (const auto& c : d.classes) request.mutable_start()->add_class_names(c);
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
    double train_s = 0;
    while (stream->Read(&response)) {
      if (response.has_result()) train_s = response.result().train_seconds();
    }
    grpc::Status status = stream->Finish();
    if (!status.ok()) return (std::cerr << status.error_message() << "\n", 1);
    (*out)["train_s"] = train_s;
    (*out)["train_rpc_s"] = train_watch.seconds();
  }
  // Concurrent clients, each sending batches of served_batch texts.
  const size_t n = d.test_texts.size();
  std::vector<int> predicted(n, -1);
  std::vector<float> positive_scores(n, 0), confidences(n, 0);
  std::atomic<size_t> next{0};
  std::atomic<int> errors{0};
  auto client = [&] {
    for (;;) {
      const size_t begin = next.fetch_add(o.served_batch);
      if (begin >= n) return;
      v1::ClassifyRequest request;
      request.set_model("bench");
      request.set_all_scores(true);
      for (size_t i = begin; i < std::min(n, begin + o.served_batch); ++i) request.add_texts(d.test_texts[i]);
      v1::ClassifyResponse response;
      grpc::ClientContext context;
      if (!stub->Classify(&context, request, &response).ok()) {
        ++errors;
        continue;
      }
      for (int k = 0; k < response.predictions_size(); ++k) {
        const auto& p = response.predictions(k);
        for (size_t c = 0; c < d.classes.size(); ++c) {
          if (d.classes[c] == p.label()) predicted[begin + k] = static_cast<int>(c);
        }
        confidences[begin + k] = static_cast<float>(p.confidence());
        if (d.classes.size() == 2) positive_scores[begin + k] = static_cast<float>(p.all_scores(1).score());
      }
    }
  };
  { std::vector<std::thread> warm; next = 0; }
  Stopwatch watch;
  std::vector<std::thread> clients;
  for (int c = 0; c < o.concurrency; ++c) clients.emplace_back(client);
  for (auto& t : clients) t.join();
  const double seconds = watch.seconds();
  eval::MetricsAccumulator metrics(d.classes, d.classes.size() == 2 ? 1 : -1);
  for (size_t i = 0; i < n; ++i) {
    if (predicted[i] >= 0) metrics.Add(d.test_labels[i], predicted[i], {}, positive_scores[i]);
  }
  (*out)["served_docs_per_s"] = n / seconds;
  (*out)["served_batch"] = o.served_batch;
  (*out)["concurrency"] = o.concurrency;
  (*out)["errors"] = errors.load();
  AddMetrics(metrics.Finish(), out);
  (*server)->Shutdown(1.0);
  std::filesystem::remove_all(root);
  return 0;
}

int SearchPreset(const Options& o, const data::Dataset& validation) {
  nlohmann::json baseline;
  if (int rc = RunInProcess(o, validation, v1::ModelConfig(), &baseline); rc != 0) return rc;
  const bool binary = validation.classes.size() == 2;
  const char* quality = binary ? "auc" : "accuracy";
  nlohmann::json result, candidates = nlohmann::json::array();
  nlohmann::json best;
  for (int level : {1, 3, 6, 9}) {
    for (int dicts : {1, 3, 7}) {
      v1::ModelConfig config;
      config.mutable_zest()->set_level(level);
      config.mutable_zest()->set_max_dicts(dicts);
      nlohmann::json run;
      if (int rc = RunInProcess(o, validation, config, &run); rc != 0) return rc;
      nlohmann::json c = {{"level", level}, {"max_dicts", dicts}, {quality, run[quality]},
                          {"classify_docs_per_s", run["classify_docs_per_s"]}};
      candidates.push_back(c);
      const bool good = run[quality].get<double>() >= baseline[quality].get<double>() - 0.002;
      if (good && (best.is_null() || c["classify_docs_per_s"] > best["classify_docs_per_s"])) best = c;
    }
  }
  result["dataset"] = o.dataset;
  result["protocol"] = "validation";
  result["baseline"] = {{quality, baseline[quality]}, {"classify_docs_per_s", baseline["classify_docs_per_s"]}};
  result["candidates"] = candidates;
  result["chosen"] = best;
  std::cout << result.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  using namespace textclf;
  bench::Options o;
  CLI::App app{"zest_bench: training time, throughput and quality of Zest on a real data set"};
  app.add_option("--data", o.data_dir, "data folder (default $TEXTCLF_DATA or ../shared/data)");
  app.add_option("--dataset", o.dataset, "clickbait, agnews or dbpedia14")->capture_default_str();
  app.add_option("--protocol", o.protocol, "study or split (clickbait), files (others), or validation")->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads (default: all cores)");
  app.add_flag("--served", o.served, "classify through the gRPC server on loopback");
  app.add_option("--served-batch", o.served_batch, "texts per Classify request when served")->capture_default_str();
  app.add_option("--concurrency", o.concurrency, "concurrent clients when served")->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "texts per batch in process")->capture_default_str();
  app.add_option("--repeat", o.repeat, "in process: classify the test set this many times, alternating "
                                       "with bare zstd, and report medians")->capture_default_str();
  app.add_option("--config", o.config, "model config JSON (textclf.v1.ModelConfig)");
  app.add_option("--preset", o.preset, "fast: the faster preset");
  app.add_flag("--json", o.json, "print JSON only (the default output is JSON too)");
  app.add_flag("--verbose", o.verbose, "training stages with timestamps on stderr");
  app.add_flag("--search-preset", o.search_preset,
               "try levels x dictionary counts on the validation protocol and pick the fastest whose "
               "AUC is within 0.002 of the default's");
  CLI11_PARSE(app, argc, argv);
  if (o.threads <= 0) o.threads = ThreadPool::HardwareThreads();

  if (o.search_preset) o.protocol = "validation";
  auto dataset = bench::LoadBenchDataset(o.data_dir, o.dataset, o.protocol);
  if (!dataset.ok()) {
    std::cerr << "zest_bench: " << dataset.status().message() << "\n";
    return 1;
  }
  v1::ModelConfig config;
  if (!o.config.empty()) {
    if (auto s = FromJson(o.config, &config, "--config"); !s.ok()) {
      std::cerr << "zest_bench: " << s.message() << "\n";
      return 2;
    }
  }
  if (o.search_preset) return bench::SearchPreset(o, *dataset);
  bench::ApplyPreset(o.preset, &config);
  nlohmann::json out;
  out["dataset"] = o.dataset;
  out["protocol"] = o.dataset == "clickbait" || o.protocol == "validation" ? o.protocol : "files";
  out["threads"] = o.threads;
  out["served"] = o.served;
  out["preset"] = o.preset.empty() ? "default" : o.preset;
  out["config"] = nlohmann::json::parse(ToJson(config));
  out["train_docs"] = dataset->train_texts.size();
  out["test_docs"] = dataset->test_texts.size();
  int rc = o.served ? bench::RunServed(o, *dataset, config, &out) : bench::RunInProcess(o, *dataset, config, &out);
  if (rc != 0) return rc;
  std::cout << out.dump() << std::endl;
  return 0;
}
