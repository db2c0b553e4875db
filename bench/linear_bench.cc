// linear_bench: the LINEAR family (core/linear) on zest_bench's data sets and protocols, in
// process: training time, test accuracy (and ROC AUC for binary data sets), ECE after the
// fitted temperature, and classification throughput (docs/s, batches of 256 on one thread).
// One JSON object per data set:
//   build/bench/linear_bench --dataset clickbait,agnews,dbpedia14 [--protocol study]
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_datasets.h"
#include "bench/datasets/data_dir.h"
#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/eval/calibration.h"
#include "core/eval/roc_auc.h"
#include "core/linear/linear_model.h"
#include "core/linear/linear_trainer.h"

namespace {

using namespace textclf;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

struct Options {
  std::string data_dir = data::DataDir().string();
  std::vector<std::string> datasets = {"clickbait", "agnews", "dbpedia14"};
  std::string protocol = "study";
  int hash_bits = 0;
  int char_ngram_max = 0;
  double l2 = 0;
  int max_epochs = 0;
  std::string method = "lr";
  double nb_alpha = 0;
  std::string weights = "f32";
};

int RunOne(const Options& o, const std::string& name) {
  const std::string protocol = name == "clickbait" ? o.protocol : "split";
  auto loaded = bench::LoadBenchDataset(o.data_dir, name, protocol);
  if (!loaded.ok()) {
    std::cerr << "linear_bench: " << loaded.status().message() << "\n";
    return 1;
  }
  const data::Dataset& d = *loaded;
  const auto dir = std::filesystem::temp_directory_path() / ("linear-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);

  TrainingSet set;
  set.classes = d.classes;
  set.texts = d.train_texts;
  set.labels = d.train_labels;
  v1::TrainStart start;
  start.set_model(name);
  start.set_family(v1::LINEAR);
  v1::LinearConfig* config = start.mutable_config()->mutable_linear();
  config->set_hash_bits(o.hash_bits);
  config->set_char_ngram_max(o.char_ngram_max);
  config->set_l2(o.l2);
  config->set_max_epochs(o.max_epochs);
  config->set_method(o.method == "nb" ? v1::LinearConfig::NAIVE_BAYES : v1::LinearConfig::LOGISTIC_REGRESSION);
  config->set_nb_alpha(o.nb_alpha);
  config->set_weight_storage(o.weights == "f16"    ? v1::LinearConfig::FLOAT16
                             : o.weights == "int8" ? v1::LinearConfig::INT8
                                                   : v1::LinearConfig::FLOAT32);
  ThreadPool pool(1);
  CancellationToken cancel;
  TrainContext ctx;
  ctx.pool = &pool;
  ctx.cancel = &cancel;
  ctx.output_dir = dir;
  ctx.progress = [](std::string_view stage, double, std::string_view message) {
    std::cerr << "[" << stage << "] " << message << "\n";
  };
  const auto train_started = Clock::now();
  auto manifest = linear::Train(start, set, ctx);
  const double train_s = Seconds(train_started);
  if (!manifest.ok()) {
    std::cerr << "linear_bench: training failed: " << manifest.status().message() << "\n";
    return 1;
  }
  const std::string weights_file = linear::WeightsFileName(manifest->linear().resolved().weight_storage());
  ModelFiles files;
  files.contents[weights_file] = *ReadFile(dir / weights_file);
  std::filesystem::remove_all(dir);
  auto model = linear::LinearModel::Load(*manifest, files);
  if (!model.ok()) {
    std::cerr << "linear_bench: " << model.status().message() << "\n";
    return 1;
  }

  std::vector<ModelInput> inputs;
  inputs.reserve(d.test_texts.size());
  for (const auto& t : d.test_texts) inputs.push_back(ModelInput{t, nullptr});
  constexpr size_t kBatch = 256;
  std::vector<double> confidence, positive_scores;
  std::vector<uint8_t> correct, is_positive;
  ScoreMatrix out;
  const Device cpu{Device::Kind::kCpu, 0, &pool};
  const auto scored_started = Clock::now();
  for (size_t begin = 0; begin < inputs.size(); begin += kBatch) {
    const size_t n = std::min(kBatch, inputs.size() - begin);
    if (!(*model)->Run(std::span<const ModelInput>(inputs.data() + begin, n), cpu, &out).ok()) return 1;
    for (size_t i = 0; i < n; ++i) {
      const size_t best = out.Argmax(i);
      confidence.push_back(out.probability_row(i)[best]);
      correct.push_back(static_cast<int>(best) == d.test_labels[begin + i] ? 1 : 0);
      if (d.classes.size() == 2) {
        // The "clickbait" class (label 1) is the positive one, as zest_bench scores it.
        positive_scores.push_back(out.probability_row(i)[1]);
        is_positive.push_back(d.test_labels[begin + i] == 1 ? 1 : 0);
      }
    }
  }
  const double scored_s = Seconds(scored_started);
  double accuracy = 0;
  for (uint8_t c : correct) accuracy += c;
  accuracy /= std::max<size_t>(1, correct.size());
  const v1::LinearState& state = manifest->linear();
  nlohmann::ordered_json line = {{"dataset", name},
                                 {"protocol", protocol},
                                 {"family", "linear"},
                                 {"execution", (*model)->execution()},
                                 {"train_examples", d.train_texts.size()},
                                 {"test_examples", d.test_texts.size()},
                                 {"train_s", train_s},
                                 {"accuracy", accuracy},
                                 {"ece", eval::ComputeCalibration(confidence, correct).ece},
                                 {"docs_per_s", scored_s > 0 ? inputs.size() / scored_s : 0.0},
                                 {"hash_bits", state.resolved().hash_bits()},
                                 {"char_ngram_max", state.resolved().char_ngram_max()},
                                 {"l2", state.resolved().l2()},
                                 {"nb_alpha", state.resolved().nb_alpha()},
                                 {"epochs", state.epochs()},
                                 {"validation_accuracy", state.validation_accuracy()},
                                 {"temperature", state.temperature()},
                                 {"weights_bytes", files.contents[weights_file].size()}};
  if (d.classes.size() == 2) line["auc"] = eval::RocAuc(positive_scores, is_positive);
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"linear_bench: the LINEAR family on clickbait, AG News and DBpedia-14"};
  app.add_option("--data", o.data_dir, "data folder (default $TEXTCLF_DATA or ../shared/data)");
  app.add_option("--dataset", o.datasets, "clickbait, agnews and/or dbpedia14")->delimiter(',')->capture_default_str();
  app.add_option("--protocol", o.protocol, "clickbait's protocol: study or split")->capture_default_str();
  app.add_option("--hash-bits", o.hash_bits, "feature slots 2^bits (0: the default, 20)");
  app.add_option("--char-ngram-max", o.char_ngram_max, "character n-grams 3..max (0: none)");
  app.add_option("--l2", o.l2, "L2 (0: chosen on the validation split)");
  app.add_option("--max-epochs", o.max_epochs, "epochs at most (0: the default, 20)");
  app.add_option("--method", o.method, "lr (logistic regression) or nb (naive Bayes)")
      ->check(CLI::IsMember({"lr", "nb"}))
      ->capture_default_str();
  app.add_option("--nb-alpha", o.nb_alpha, "naive Bayes' smoothing (0: chosen on the validation split)");
  app.add_option("--weights", o.weights, "weight storage: f32, f16 or int8")
      ->check(CLI::IsMember({"f32", "f16", "int8"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  int failures = 0;
  for (const std::string& name : o.datasets) failures += RunOne(o, name);
  return failures == 0 ? 0 : 1;
}
