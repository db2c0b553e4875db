// batching_bench: the same model served with dynamic batching on and off, under closed-loop load
// at several concurrencies; one JSON object per step (throughput and latency percentiles).
// Text families train on the clickbait study split; --family image_cnn trains a small ResNet on
// a slice of Fashion-MNIST (IDX files, --fashion) and sends its test images as tensors;
// --family xclass runs X-Class with an encoder checkpoint (--encoder) on AG News test texts
// (class names only, no labels) and sends those texts.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_datasets.h"
#include "bench/datasets/data_dir.h"
#include "client/loadgen/channel_pool.h"
#include "client/loadgen/load_runner.h"
#include "client/loadgen/options.h"
#include "client/loadgen/report.h"
#include "client/loadgen/senders.h"
#include "core/common/thread_pool.h"
#include "core/data/idx_examples.h"
#include "core/model/family_names.h"
#include "core/torch/openblas_kernel.h"
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
  // image_cnn only.
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  int image_depth = 8;
  int64_t image_train = 2000;
  // xclass only.
  std::string encoder;             // a BERT checkpoint folder (config.json, model.safetensors, vocab.txt)
  int64_t xclass_documents = 7600;  // unlabeled AG News test texts X-Class learns from (all)
};

// Fashion-MNIST images (uint8 [1, 28, 28] tensors, labelled by index) of one file pair.
absl::StatusOr<std::vector<v1::Example>> ReadFashion(const std::string& dir, const std::string& prefix, int64_t limit) {
  return data::ReadIdxExamples(dir + "/" + prefix + "-images-idx3-ubyte.gz", dir + "/" + prefix + "-labels-idx1-ubyte.gz",
                               0, limit, {});
}

// Streams `start` and then `examples` (in batches of 1000) to the server's Train RPC and waits
// for the job; 0 on success.
int RunTraining(const std::string& address, const v1::TrainStart& start, const std::vector<v1::Example>& examples) {
  auto stub = v1::Classifier::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Train(&context);
  v1::TrainRequest request;
  *request.mutable_start() = start;
  stream->Write(request);
  request.Clear();
  for (size_t i = 0; i < examples.size(); ++i) {
    *request.mutable_batch()->add_examples() = examples[i];
    if (request.batch().examples_size() == 1000 || i + 1 == examples.size()) {
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

// Trains a ResNet of `depth` on `count` Fashion-MNIST training images for one epoch.
int TrainImageModel(const std::string& address, const Options& o) {
  auto images = ReadFashion(o.fashion_dir, "train", o.image_train);
  if (!images.ok()) {
    std::cerr << "batching_bench: " << images.status().message() << "\n";
    return 1;
  }
  v1::TrainStart start;
  start.set_model("bench");
  start.set_family(v1::IMAGE_CNN);
  v1::ImageCnnConfig* c = start.mutable_config()->mutable_image_cnn();
  c->set_depth(o.image_depth);
  c->mutable_training()->set_epochs(1);
  return RunTraining(address, start, *images);
}

// Classify requests of `batch_size` images each, prepared once and reused.
class TensorClassifySender : public loadgen::RequestSender {
 public:
  TensorClassifySender(loadgen::ChannelPool& pool, const std::vector<v1::Tensor>& images, int batch_size,
                       double timeout_s)
      : pool_(pool), timeout_s_(timeout_s) {
    const size_t per = static_cast<size_t>(std::max(1, batch_size));
    for (size_t begin = 0; begin < images.size(); begin += per) {
      v1::ClassifyRequest& r = requests_.emplace_back();
      r.set_model("bench");
      for (size_t k = 0; k < per; ++k) *r.add_tensors() = images[(begin + k) % images.size()];
    }
  }

  void Send(uint64_t sequence, loadgen::OutcomeCallback done) override {
    struct Call {
      grpc::ClientContext context;
      v1::ClassifyResponse response;
    };
    auto* call = new Call;
    call->context.set_deadline(loadgen::DeadlineAfter(timeout_s_));
    in_flight_.Add(&call->context);
    const v1::ClassifyRequest& request = requests_[sequence % requests_.size()];
    const int inputs = request.tensors_size();
    pool_.Next().stub->async()->Classify(&call->context, &request, &call->response,
                                         [this, call, inputs, done = std::move(done)](grpc::Status status) {
                                           loadgen::Outcome outcome;
                                           outcome.code = status.error_code();
                                           outcome.texts = inputs;
                                           if (status.ok()) {
                                             outcome.queue_us = call->response.queue_us();
                                             outcome.compute_us = call->response.compute_us();
                                           }
                                           in_flight_.Remove(&call->context);
                                           delete call;
                                           done(outcome);
                                         });
  }

  void CancelAll() override { in_flight_.CancelAll(); }

 private:
  loadgen::ChannelPool& pool_;
  const double timeout_s_;
  std::vector<v1::ClassifyRequest> requests_;
  loadgen::InFlightCalls in_flight_;
};

// Trains the benchmark model through the server's Train RPC, from the data set's training side:
// labelled, or for X-Class unlabeled with the class names and the encoder folder.
int TrainModel(const std::string& address, const data::Dataset& d, v1::Family family, const Options& o) {
  v1::TrainStart start;
  start.set_model("bench");
  start.set_family(family);
  const bool xclass = family == v1::XCLASS;
  if (xclass) {
    for (const std::string& name : d.classes) start.add_class_names(name);
    start.mutable_config()->mutable_xclass()->set_encoder_path(o.encoder);
  }
  std::vector<v1::Example> examples(d.train_texts.size());
  for (size_t i = 0; i < d.train_texts.size(); ++i) {
    examples[i].set_text(d.train_texts[i]);
    if (!xclass) examples[i].set_label(d.classes[d.train_labels[i]]);
  }
  return RunTraining(address, start, examples);
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
  // X-Class reads its encoder from the server's disk: the folder holding it is the import folder.
  if (!o.encoder.empty()) config.set_import_dir(std::filesystem::path(o.encoder).parent_path().string());
  return server::Server::Start(config);
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  textclf::torch_support::UseFastestOpenBlasKernel(argv);  // before any thread starts
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
  app.add_option("--fashion", o.fashion_dir, "image_cnn: Fashion-MNIST folder")->capture_default_str();
  app.add_option("--image-depth", o.image_depth, "image_cnn: ResNet depth (6n + 2)")->capture_default_str();
  app.add_option("--image-train", o.image_train, "image_cnn: training images (one epoch)")->capture_default_str();
  app.add_option("--encoder", o.encoder, "xclass: encoder checkpoint folder (e.g. one xclass_bench pretrained)");
  app.add_option("--xclass-documents", o.xclass_documents, "xclass: AG News test texts to learn from")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto family = ParseFamily(o.family);
  if (!family.ok()) {
    std::cerr << "batching_bench: " << family.status().message() << "\n";
    return 2;
  }
  const bool xclass = *family == v1::XCLASS;
  if (xclass && o.encoder.empty()) {
    std::cerr << "batching_bench: --family xclass needs --encoder DIR (build/bench/xclass_bench pretrains one)\n";
    return 2;
  }
  auto dataset = xclass ? bench::LoadBenchDataset(o.data_dir, "agnews", "")
                        : bench::LoadBenchDataset(o.data_dir, "clickbait", "study");
  if (!dataset.ok()) {
    std::cerr << "batching_bench: " << dataset.status().message() << "\n";
    return 1;
  }
  if (xclass) {
    // X-Class learns from unlabeled test texts, named as the paper names AG News's classes.
    dataset->classes = {"politics", "sports", "business", "technology"};
    dataset->train_texts.assign(dataset->test_texts.begin(),
                                dataset->test_texts.begin() + std::min<int64_t>(o.xclass_documents, dataset->test_texts.size()));
  }
  const auto root = std::filesystem::temp_directory_path() / ("batching-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  const bool images = *family == v1::IMAGE_CNN;
  loadgen::Workload workload;
  workload.texts = dataset->test_texts;
  std::vector<v1::Tensor> test_images;
  if (images) {
    auto read = bench::ReadFashion(o.fashion_dir, "t10k", 2000);
    if (!read.ok()) {
      std::cerr << "batching_bench: " << read.status().message() << "\n";
      return 1;
    }
    for (v1::Example& e : *read) test_images.push_back(std::move(*e.mutable_tensor()));
  }
  int rc = 0;
  for (bool batching : {true, false}) {
    auto server = bench::StartServer(root, batching, o);
    if (!server.ok()) {
      std::cerr << "batching_bench: " << server.status().message() << "\n";
      return 1;
    }
    const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
    if (batching && (rc = images ? bench::TrainImageModel(address, o) : bench::TrainModel(address, *dataset, *family, o)) != 0) {
      return rc;
    }
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
    std::unique_ptr<loadgen::RequestSender> sender =
        images ? std::make_unique<bench::TensorClassifySender>(pool, test_images, o.batch_size, options.timeout_s)
               : loadgen::MakeClassifySender(pool, workload, settings);
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
