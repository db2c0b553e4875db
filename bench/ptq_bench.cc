// ptq_bench: post-training quantization of CNNs trained here on the CPU, through the server's
// Train and Quantize RPCs: TEXT_CNN on AG News and a ResNet-20 on Fashion-MNIST, quantized at
// W8/W6/W4/W3/W2 with 8-bit activations. Prints one JSON object per model: accuracy, ECE before
// and after temperature scaling, swap rate by float-confidence decile, file sizes, and the
// throughput and latency of every version served by Classify (one load step per batch size),
// with how the server runs it (float, int8 kernels and their engine, or simulated int8).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <numeric>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/datasets/data_dir.h"
#include "bench/datasets/datasets.h"
#include "core/common/proto_json.h"
#include "core/common/stopwatch.h"
#include "core/data/idx_examples.h"
#include "core/torch/openblas_kernel.h"
#include "server/server.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::bench {
namespace {

struct Options {
  std::string data_dir = data::DataDir().string();
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  std::vector<std::string> models = {"text_cnn", "image_cnn"};
  std::vector<int> bits = {8, 6, 4, 3, 2};
  // The defaults reproduce the numbers in core/cnn/README.md: TEXT_CNN with Adam at 1e-3 and
  // 200 maps per width (chosen on validation accuracy), ResNet-20 for 8 epochs.
  int text_epochs = 4;
  int image_epochs = 8;
  int image_depth = 20;
  int64_t train_limit = 0;        // 0: the whole training set
  int64_t calibration = 2000;     // held out of the training set; validates the training too
  int64_t eval_limit = 0;         // 0: the whole test set
  double serve_seconds = 5;
  std::vector<int> serve_batches = {1, 32};
  int serve_concurrency = 8;
  int threads = 0;
  // JSON merged into the family's config (textclf.v1.TextCnnConfig / ImageCnnConfig), after the
  // flags above: e.g. '{"training":{"weightDecay":1e-4}}'.
  std::string text_config = R"({"training":{"learningRate":0.001},"featureMaps":200})";
  std::string image_config;
};

// Examples as the RPCs take them.
struct Split {
  std::vector<v1::Example> train, calibration, eval;
};

v1::Example TextExample(const std::string& text, const std::string& label) {
  v1::Example e;
  e.set_text(text);
  e.set_label(label);
  return e;
}

absl::StatusOr<Split> AgNews(const Options& o) {
  auto d = data::LoadAgNews(o.data_dir);
  if (!d.ok()) return d.status();
  std::vector<size_t> order(d->train_texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(5);
  std::shuffle(order.begin(), order.end(), rng);
  Split s;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    auto e = TextExample(d->train_texts[i], d->classes[d->train_labels[i]]);
    if (static_cast<int64_t>(k) < o.calibration) {
      s.calibration.push_back(std::move(e));
    } else if (o.train_limit == 0 || static_cast<int64_t>(s.train.size()) < o.train_limit) {
      s.train.push_back(std::move(e));
    }
  }
  for (size_t i = 0; i < d->test_texts.size() && (o.eval_limit == 0 || static_cast<int64_t>(i) < o.eval_limit); ++i) {
    s.eval.push_back(TextExample(d->test_texts[i], d->classes[d->test_labels[i]]));
  }
  return s;
}

absl::StatusOr<std::vector<v1::Example>> Fashion(const Options& o, const std::string& prefix, int64_t limit) {
  static const std::vector<std::string> kNames = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                                  "sandal",  "shirt",   "sneaker",  "bag",   "ankle-boot"};
  return data::ReadIdxExamples(o.fashion_dir + "/" + prefix + "-images-idx3-ubyte.gz",
                               o.fashion_dir + "/" + prefix + "-labels-idx1-ubyte.gz", 0, limit, kNames);
}

absl::StatusOr<Split> FashionMnist(const Options& o) {
  auto train = Fashion(o, "train", 0);
  if (!train.ok()) return train.status();
  auto test = Fashion(o, "t10k", o.eval_limit);
  if (!test.ok()) return test.status();
  Split s;
  // The last `calibration` training images are held out for calibration.
  const size_t cut = train->size() - static_cast<size_t>(std::min<int64_t>(o.calibration, static_cast<int64_t>(train->size()) / 2));
  for (size_t i = 0; i < train->size(); ++i) {
    if (i >= cut) {
      s.calibration.push_back(std::move((*train)[i]));
    } else if (o.train_limit == 0 || static_cast<int64_t>(s.train.size()) < o.train_limit) {
      s.train.push_back(std::move((*train)[i]));
    }
  }
  s.eval = std::move(*test);
  return s;
}

template <typename Request, typename Stream>
bool SendExamples(Stream* stream, const std::vector<v1::Example>& examples, v1::Split split) {
  Request request;
  for (size_t i = 0; i < examples.size(); ++i) {
    *request.mutable_batch()->add_examples() = examples[i];
    if (request.batch().examples_size() == 1000 || i + 1 == examples.size()) {
      request.mutable_batch()->set_split(split);
      if (!stream->Write(request)) return false;
      request.Clear();
    }
  }
  return true;
}

absl::StatusOr<v1::TrainResult> TrainModel(v1::Classifier::Stub& stub, const v1::TrainStart& start, const Split& s) {
  grpc::ClientContext context;
  auto stream = stub.Train(&context);
  v1::TrainRequest first;
  *first.mutable_start() = start;
  stream->Write(first);
  SendExamples<v1::TrainRequest>(stream.get(), s.train, v1::TRAIN);
  stream->WritesDone();
  v1::TrainResponse response;
  v1::TrainResult result;
  while (stream->Read(&response)) {
    if (response.has_progress() && response.progress().stage() == "epoch") {
      std::cerr << "ptq_bench: " << start.model() << ": " << response.progress().message() << std::endl;
    }
    if (response.has_result()) result = response.result();
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) return absl::InternalError("training failed: " + status.error_message());
  return result;
}

absl::StatusOr<v1::QuantizeResult> QuantizeModel(v1::Classifier::Stub& stub, const std::string& model,
                                                 const std::vector<int>& bits, const Split& s) {
  grpc::ClientContext context;
  auto stream = stub.Quantize(&context);
  v1::QuantizeRequest first;
  v1::QuantizeStart* start = first.mutable_start();
  start->set_model(model);
  for (int b : bits) start->add_weight_bits(b);
  start->set_sweep(bits.size() > 1);
  start->set_activation_bits(8);
  start->set_eval_dataset("test");
  stream->Write(first);
  SendExamples<v1::QuantizeRequest>(stream.get(), s.calibration, v1::CALIBRATION);
  SendExamples<v1::QuantizeRequest>(stream.get(), s.eval, v1::EVAL);
  stream->WritesDone();
  v1::QuantizeResponse response;
  v1::QuantizeResult result;
  while (stream->Read(&response)) {
    if (response.has_progress() && response.progress().stage() == "quantize" && response.progress().message().find("top-1") != std::string::npos) {
      std::cerr << "ptq_bench: " << model << ": " << response.progress().message() << std::endl;
    }
    if (response.has_result()) result = response.result();
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) return absl::InternalError("quantization failed: " + status.error_message());
  return result;
}

// Closed-loop Classify load with `batch` inputs per request: throughput (inputs per second) and
// request latency percentiles.
nlohmann::ordered_json Serve(v1::Classifier::Stub& stub, const std::string& model, int64_t version, int batch,
                             const std::vector<v1::Example>& inputs, const Options& o) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(o.serve_concurrency));
  std::atomic<int64_t> errors{0};
  std::vector<std::thread> threads;
  Stopwatch watch;
  for (int c = 0; c < o.serve_concurrency; ++c) {
    threads.emplace_back([&, c] {
      size_t next = static_cast<size_t>(c);
      while (!stop.load()) {
        v1::ClassifyRequest request;
        request.set_model(model);
        request.set_version(version);
        for (int k = 0; k < batch; ++k) {
          const v1::Example& e = inputs[next % inputs.size()];
          next += static_cast<size_t>(o.serve_concurrency);
          if (e.has_tensor()) {
            *request.add_tensors() = e.tensor();
          } else {
            request.add_texts(e.text());
          }
        }
        grpc::ClientContext context;
        v1::ClassifyResponse response;
        Stopwatch one;
        grpc::Status status = stub.Classify(&context, request, &response);
        if (!status.ok()) ++errors;
        latencies[static_cast<size_t>(c)].push_back(one.seconds() * 1e3);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.serve_seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = watch.seconds();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))]; };
  nlohmann::ordered_json j;
  j["batch"] = batch;
  j["concurrency"] = o.serve_concurrency;
  j["requests"] = all.size();
  j["errors"] = errors.load();
  j["throughput_per_s"] = static_cast<double>(all.size()) * batch / seconds;
  j["latency_ms_p50"] = pct(0.5);
  j["latency_ms_p90"] = pct(0.9);
  j["latency_ms_p99"] = pct(0.99);
  return j;
}

// How the server runs a version (ModelStatistics), e.g. "int8 kernels (onednn) on CPU; ...".
std::string ExecutionOf(v1::Classifier::Stub& stub, const std::string& model, int64_t version, const v1::Example& input) {
  // The statistics list a version once it has been asked for something: one warm-up call.
  v1::ClassifyRequest warm;
  warm.set_model(model);
  warm.set_version(version);
  if (input.has_tensor()) {
    *warm.add_tensors() = input.tensor();
  } else {
    warm.add_texts(input.text());
  }
  {
    grpc::ClientContext context;
    v1::ClassifyResponse ignored;
    (void)stub.Classify(&context, warm, &ignored);
  }
  grpc::ClientContext context;
  v1::ModelStatisticsRequest request;
  request.set_model(model);
  v1::ModelStatisticsResponse response;
  if (!stub.ModelStatistics(&context, request, &response).ok()) return "";
  for (const v1::VersionStatistics& v : response.versions()) {
    if (v.version() == version) return v.execution();
  }
  return "";
}

int RunModel(const std::string& which, const Options& o) {
  const bool text = which == "text_cnn";
  auto split = text ? AgNews(o) : FashionMnist(o);
  if (!split.ok()) {
    std::cerr << "ptq_bench: " << split.status().message() << "\n";
    return 1;
  }
  const auto root = std::filesystem::temp_directory_path() / ("ptq-bench-" + std::to_string(::getpid()) + "-" + which);
  std::filesystem::remove_all(root);
  v1::ServerConfig config;
  config.set_models_dir(root.string());
  config.set_port(0);
  config.set_host("127.0.0.1");
  config.set_metrics_port(-1);
  config.set_threads(o.threads);
  config.mutable_limits()->set_max_train_bytes(int64_t{4} << 30);
  auto server = server::Server::Start(config);
  if (!server.ok()) {
    std::cerr << "ptq_bench: " << server.status().message() << "\n";
    return 1;
  }
  auto stub = v1::Classifier::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials(),
                                [] {
                                  grpc::ChannelArguments args;
                                  args.SetMaxSendMessageSize(256 << 20);
                                  args.SetMaxReceiveMessageSize(256 << 20);
                                  return args;
                                }()));
  v1::TrainStart start;
  start.set_model(which);
  start.set_family(text ? v1::TEXT_CNN : v1::IMAGE_CNN);
  google::protobuf::Message* family_config;
  if (text) {
    start.mutable_config()->mutable_text_cnn()->mutable_training()->set_epochs(o.text_epochs);
    family_config = start.mutable_config()->mutable_text_cnn();
  } else {
    v1::ImageCnnConfig* c = start.mutable_config()->mutable_image_cnn();
    c->set_depth(o.image_depth);
    c->mutable_training()->set_epochs(o.image_epochs);
    family_config = c;
  }
  const std::string& overrides = text ? o.text_config : o.image_config;
  if (absl::Status s = MergeFromJson(overrides, family_config, text ? "--text-config" : "--image-config"); !s.ok()) {
    std::cerr << "ptq_bench: " << s.message() << "\n";
    return 2;
  }
  std::cerr << "ptq_bench: training " << which << " on " << split->train.size() << " examples" << std::endl;
  auto trained = TrainModel(*stub, start, *split);
  if (!trained.ok()) {
    std::cerr << "ptq_bench: " << trained.status().message() << "\n";
    return 1;
  }
  auto quantized = QuantizeModel(*stub, which, o.bits, *split);
  if (!quantized.ok()) {
    std::cerr << "ptq_bench: " << quantized.status().message() << "\n";
    return 1;
  }
  const v1::QuantizeReport& report = quantized->report();
  nlohmann::ordered_json line;
  line["model"] = text ? "text_cnn" : "resnet" + std::to_string(o.image_depth);
  line["dataset"] = text ? "ag_news" : "fashion_mnist";
  line["config_overrides"] = nlohmann::ordered_json::parse(overrides.empty() ? "{}" : overrides);
  line["train_examples"] = split->train.size();
  line["calibration_examples"] = split->calibration.size();
  line["eval_examples"] = report.eval_examples();
  line["train_seconds"] = trained->train_seconds();
  line["float_accuracy"] = report.float_model().top1();
  line["float_ece"] = report.float_model().ece();
  line["float_ece_after_temperature"] = report.float_model().ece_after_temperature();
  line["float_nll"] = report.float_model().nll();
  line["float_file_bytes"] = report.float_model().file_bytes();
  line["variants"] = nlohmann::json::array();
  std::vector<std::pair<std::string, int64_t>> versions = {{"float", report.source_version()}};
  bool swaps_fall = true;
  for (const v1::VariantReport& r : report.variants()) {
    nlohmann::ordered_json v;
    v["weight_bits"] = r.weight_bits();
    v["activation_bits"] = r.activation_bits();
    v["accuracy"] = r.top1();
    if (r.has_top5()) v["top5"] = r.top5();
    v["ece"] = r.ece();
    v["ece_after_temperature"] = r.ece_after_temperature();
    v["temperature"] = r.temperature();
    v["nll"] = r.nll();
    v["swap_rate"] = r.swap_rate();
    v["swap_rate_by_confidence_decile"] = std::vector<double>(r.swap_rate_by_confidence_decile().begin(),
                                                              r.swap_rate_by_confidence_decile().end());
    v["file_bytes"] = r.file_bytes();
    v["file_fraction"] = r.file_fraction();
    v["version"] = r.version();
    versions.emplace_back(r.label(), r.version());
    const double lowest = r.swap_rate_by_confidence_decile(0), highest = r.swap_rate_by_confidence_decile(9);
    if (r.weight_bits() >= 4 && r.swapped() > 0 && !(highest * 5 <= lowest)) swaps_fall = false;
    if (r.weight_bits() == 8) {
      line["w8a8_drop_points"] = 100 * (report.float_model().top1() - r.top1());
    }
    line["variants"].push_back(v);
  }
  line["highest_decile_flips_5x_less_w8_to_w4"] = swaps_fall;
  line["quantize_seconds"] = report.seconds();
  if (o.serve_seconds > 0) {
    // Every version under the same load; the ratios compare each with the float version.
    nlohmann::ordered_json serving = nlohmann::json::array();
    std::map<int, double> float_throughput;
    for (const auto& [label, version] : versions) {
      for (int batch : o.serve_batches) {
        nlohmann::ordered_json step;
        step["variant"] = label;
        step["version"] = version;
        step["execution"] = ExecutionOf(*stub, which, version, split->eval.front());
        step.update(Serve(*stub, which, version, batch, split->eval, o));
        const double throughput = step["throughput_per_s"];
        if (label == "float") float_throughput[batch] = throughput;
        if (float_throughput[batch] > 0) step["over_float"] = throughput / float_throughput[batch];
        std::cerr << "ptq_bench: serving " << label << " batch " << batch << ": " << throughput << "/s ("
                  << std::string(step["execution"]) << ")" << std::endl;
        serving.push_back(step);
      }
    }
    line["serving"] = serving;
  }
  std::cout << line.dump() << std::endl;
  (*server)->Shutdown(5.0);
  std::filesystem::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  textclf::torch_support::UseFastestOpenBlasKernel(argv);  // before any thread starts
  textclf::bench::Options o;
  CLI::App app{"ptq_bench: post-training quantization of CNNs trained here, with calibration figures"};
  app.add_option("--data", o.data_dir, "data folder (AG News)");
  app.add_option("--fashion", o.fashion_dir, "Fashion-MNIST folder")->capture_default_str();
  app.add_option("--models", o.models, "text_cnn, image_cnn")->delimiter(',')->capture_default_str();
  app.add_option("--bits", o.bits, "weight bit-widths")->delimiter(',')->capture_default_str();
  app.add_option("--text-epochs", o.text_epochs, "TEXT_CNN epochs at most")->capture_default_str();
  app.add_option("--image-epochs", o.image_epochs, "ResNet epochs at most")->capture_default_str();
  app.add_option("--image-depth", o.image_depth, "ResNet depth (6n + 2)")->capture_default_str();
  app.add_option("--train-limit", o.train_limit, "training examples at most (0: all)");
  app.add_option("--calibration", o.calibration, "calibration examples held out of training")->capture_default_str();
  app.add_option("--eval-limit", o.eval_limit, "test examples at most (0: all)");
  app.add_option("--serve-seconds", o.serve_seconds, "seconds of Classify load per served version (0: none)")->capture_default_str();
  app.add_option("--serve-batches", o.serve_batches, "inputs per Classify request, one load step each")
      ->delimiter(',')->capture_default_str();
  app.add_option("--serve-concurrency", o.serve_concurrency, "concurrent Classify calls")->capture_default_str();
  app.add_option("--threads", o.threads, "server CPU threads (default: all cores)");
  app.add_option("--text-config", o.text_config, "JSON merged into the TEXT_CNN config (TextCnnConfig)")->capture_default_str();
  app.add_option("--image-config", o.image_config, "JSON merged into the IMAGE_CNN config (ImageCnnConfig)");
  CLI11_PARSE(app, argc, argv);
  for (const std::string& m : o.models) {
    if (m != "text_cnn" && m != "image_cnn") {
      std::cerr << "ptq_bench: unknown model " << m << "; use text_cnn or image_cnn\n";
      return 2;
    }
    if (int rc = textclf::bench::RunModel(m, o); rc != 0) return rc;
  }
  return 0;
}
