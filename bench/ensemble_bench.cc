// ensemble_bench: the study's Zest + LR as one served model. Trains a Zest and a LINEAR member on
// a data set's training side (less a calibration split), then an ENSEMBLE of them per combination
// rule, all through the training job into a registry whose versions run on the serving runtime's
// batchers, so the ensemble fans out to its members' queues as it does in the server. Scores the
// test side with each member and each ensemble and prints one JSON object per data set.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_datasets.h"
#include "bench/datasets/data_dir.h"
#include "core/common/proto_json.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"
#include "core/eval/model_evaluation.h"
#include "core/families/families.h"
#include "core/jobs/training_job.h"
#include "core/model/family_names.h"
#include "core/registry/model_manager.h"
#include "core/runtime/inference_runtime.h"
#include "core/torch/openblas_kernel.h"

namespace textclf::bench {
namespace {

struct Options {
  std::string data_dir = data::DataDir().string();
  std::vector<std::string> datasets = {"clickbait", "agnews", "dbpedia14"};
  std::string protocol = "study";
  std::vector<std::string> combinations = {"average", "weighted", "stacking"};
  double calibration_fraction = 0.05;
  int threads = 2;
  std::string zest_config;    // ModelConfig JSON for the Zest member
  std::string linear_config;  // and for the LINEAR one
};

// Chunks the test side is scored in, as the Evaluate RPC sends them to a version's queue.
constexpr size_t kChunk = 256;

// The test side's metrics for one served version, and its texts per second through its queue.
absl::StatusOr<nlohmann::ordered_json> Score(const registry::ModelManager& models, const std::string& name,
                                             const data::Dataset& d, ThreadPool& pool) {
  auto loaded = models.Find(name, 0);
  if (!loaded.ok()) return loaded.status();
  const Model& model = *loaded->model;
  eval::MetricsAccumulator metrics = eval::AccumulatorFor(model);
  std::vector<ModelInput> inputs;
  inputs.reserve(d.test_texts.size());
  for (const auto& t : d.test_texts) inputs.push_back(ModelInput{t, nullptr});
  const Device fallback{Device::Kind::kCpu, 0, &pool};
  Stopwatch watch;
  const eval::ScoreFn score = [&](std::span<const ModelInput> chunk, ScoreMatrix* out) {
    return loaded->Score(chunk, v1::INTERACTIVE, nullptr, out, fallback);
  };
  if (auto s = eval::AddPredictions(model, inputs, d.test_labels, score, kChunk, &metrics); !s.ok()) return s;
  const double seconds = watch.seconds();
  const v1::EvalMetrics m = metrics.Finish();
  nlohmann::ordered_json out = {{"family", FamilyName(model.manifest().family())},
                                {"execution", model.execution()},
                                {"accuracy", m.accuracy()},
                                {"macro_f1", m.macro_f1()},
                                {"ece", m.ece()},
                                {"docs_per_s", d.test_texts.size() / seconds}};
  if (m.has_auc()) out["auc"] = m.auc();
  return out;
}

absl::StatusOr<double> TrainVersion(registry::ModelManager& models, ThreadPool& pool, v1::TrainStart start,
                                    const TrainingSet& data) {
  CancellationToken cancel;
  auto outcome = RunTrainingJob(start, data, models, pool, cancel, [&](std::string_view stage, double, std::string_view message) {
    std::cerr << "[" << start.model() << " " << stage << "] " << message << "\n";
  });
  if (!outcome.ok()) return outcome.status();
  return outcome->seconds;
}

int RunOne(const Options& o, const std::string& name) {
  const std::string protocol = name == "clickbait" ? o.protocol : "split";
  auto loaded = LoadBenchDataset(o.data_dir, name, protocol);
  if (!loaded.ok()) return (std::cerr << "ensemble_bench: " << loaded.status().message() << "\n", 1);
  const data::Dataset& d = *loaded;
  // The calibration split: texts neither member trains on, drawn at random (seed 7).
  TrainingSet members_data, calibration;
  members_data.classes = calibration.classes = d.classes;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (size_t i = 0; i < d.train_texts.size(); ++i) {
    const bool held = uniform(rng) < o.calibration_fraction;
    (held ? calibration.calibration_texts : members_data.texts).push_back(d.train_texts[i]);
    (held ? calibration.calibration_labels : members_data.labels).push_back(d.train_labels[i]);
  }

  const auto root = std::filesystem::temp_directory_path() / ("ensemble-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  registry::Repository repository(root);
  if (auto s = repository.Initialize(); !s.ok()) return (std::cerr << s.message() << "\n", 1);
  ThreadPool pool(static_cast<size_t>(std::max(1, o.threads)));
  runtime::InferenceRuntime runtime(&BuiltInFamilies(), &pool, nullptr, {}, 0);
  v1::VersionPolicy policy;
  policy.set_latest(1);
  registry::ModelManager models(&repository, &BuiltInFamilies(), policy, &runtime);

  nlohmann::ordered_json line = {{"dataset", name},
                                 {"protocol", protocol},
                                 {"member_train_examples", members_data.texts.size()},
                                 {"calibration_examples", calibration.calibration_texts.size()},
                                 {"test_examples", d.test_texts.size()}};
  struct Member {
    std::string name;
    v1::Family family;
    const std::string& config;
  };
  for (const Member& m : {Member{"zest", v1::ZEST, o.zest_config}, Member{"linear", v1::LINEAR, o.linear_config}}) {
    v1::TrainStart start;
    start.set_model(m.name);
    start.set_family(m.family);
    if (!m.config.empty()) {
      if (auto s = FromJson(m.config, start.mutable_config(), "--" + m.name + "-config"); !s.ok()) {
        return (std::cerr << s.message() << "\n", 1);
      }
    }
    auto seconds = TrainVersion(models, pool, start, members_data);
    if (!seconds.ok()) return (std::cerr << seconds.status().message() << "\n", 1);
    auto scored = Score(models, m.name, d, pool);
    if (!scored.ok()) return (std::cerr << scored.status().message() << "\n", 1);
    (*scored)["train_s"] = *seconds;
    line[m.name] = *scored;
  }
  for (const std::string& rule : o.combinations) {
    v1::TrainStart start;
    start.set_model("ensemble_" + rule);
    start.set_family(v1::ENSEMBLE);
    v1::EnsembleConfig* config = start.mutable_config()->mutable_ensemble();
    config->add_members()->set_name("zest");
    config->add_members()->set_name("linear");
    config->set_combination(rule == "weighted"   ? v1::EnsembleConfig::WEIGHTED
                            : rule == "stacking" ? v1::EnsembleConfig::STACKING
                                                 : v1::EnsembleConfig::AVERAGE);
    // The study's average fits nothing; the other rules fit on the calibration split.
    TrainingSet classes_only;
    classes_only.classes = d.classes;
    auto seconds = TrainVersion(models, pool, start, rule == "average" ? classes_only : calibration);
    if (!seconds.ok()) return (std::cerr << seconds.status().message() << "\n", 1);
    auto scored = Score(models, start.model(), d, pool);
    if (!scored.ok()) return (std::cerr << scored.status().message() << "\n", 1);
    (*scored)["train_s"] = *seconds;
    line["ensemble_" + rule] = *scored;
  }
  std::cout << line.dump() << std::endl;
  std::filesystem::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  textclf::torch_support::UseFastestOpenBlasKernel(argv);  // before any thread starts
  textclf::bench::Options o;
  CLI::App app{"ensemble_bench: Zest + LINEAR served as one ENSEMBLE model, per combination rule"};
  app.add_option("--data", o.data_dir, "data folder (default $TEXTCLF_DATA or ../shared/data)");
  app.add_option("--dataset", o.datasets, "clickbait, agnews and/or dbpedia14")->delimiter(',')->capture_default_str();
  app.add_option("--protocol", o.protocol, "clickbait's protocol: study or split")->capture_default_str();
  app.add_option("--combination", o.combinations, "average, weighted and/or stacking")
      ->delimiter(',')
      ->check(CLI::IsMember({"average", "weighted", "stacking"}))
      ->capture_default_str();
  app.add_option("--calibration-fraction", o.calibration_fraction,
                 "share of the training side held out of the members, to fit weighted and stacking")
      ->check(CLI::Range(0.0, 0.5))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "threads of the pool members train and run on")->capture_default_str();
  app.add_option("--zest-config", o.zest_config, "the Zest member's ModelConfig as JSON");
  app.add_option("--linear-config", o.linear_config, "the LINEAR member's ModelConfig as JSON");
  CLI11_PARSE(app, argc, argv);
  int failures = 0;
  for (const std::string& name : o.datasets) failures += textclf::bench::RunOne(o, name);
  return failures == 0 ? 0 : 1;
}
