// xclass_bench: X-Class with a locally pretrained BERT encoder, as the issue measures it. For
// each data set: pretrain an encoder by masked language modelling on the data set's texts
// (unless --encoder names a checkpoint folder), run X-Class on the test documents with only the
// class names, and print one JSON object: micro- and macro-F1 after each stage (rep: nearest
// class representation, align: PCA + GMM, select: the pseudo-labels kept, final: the trained
// classifier), seconds per stage, and each study option's effect.
#include <algorithm>
#include <iostream>
#include <numeric>
#include <random>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "bench/datasets/data_dir.h"
#include "bench/datasets/datasets.h"
#include "core/common/files.h"
#include "core/common/proto_json.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"
#include "core/encoder/encoder.h"
#include "core/encoder/encoder_family.h"
#include "core/families/families.h"
#include "core/torch/openblas_kernel.h"
#include "core/xclass/xclass_config.h"
#include "core/xclass/xclass_family.h"
#include "core/xclass/xclass_trainer.h"

namespace textclf::bench {
namespace {

struct Options {
  std::string data_dir = data::DataDir().string();
  std::vector<std::string> datasets = {"agnews", "dbpedia14"};
  std::string encoder;            // a checkpoint folder to reuse (all data sets)
  std::string work_dir = "/tmp/xclass-bench";
  int layers = 4;
  int hidden = 256;
  int heads = 4;
  int max_length = 128;
  int epochs = 1;
  double pretrain_seconds = 0;    // > 0: time budget of each pretraining
  int vocab_size = 0;             // > 0: a WordPiece vocabulary of this size learned from the texts
  size_t pretrain_texts = 0;      // 0: all the data set's texts
  double learning_rate = 5e-4;
  size_t documents = 0;           // 0: all test documents (stratified sample otherwise)
  std::string final_classifier;   // "" (auto), "fine_tune" or "frozen_head"
  bool variant_final = true;      // train the final classifier for every option too
  bool final = true;              // train the final classifier at all
  bool options = true;            // measure the study's options
  int threads = 0;
  // JSON merged over what the flags set: textclf.v1.EncoderConfig for pretraining,
  // textclf.v1.XClassConfig for every X-Class run (e.g. '{"layer":2}').
  std::string encoder_config;
  std::string xclass_config;
  // Further variants measured after the study's options: "NAME=JSON" (XClassConfig overrides).
  std::vector<std::string> variants;
};

// Class names: AG News's as the paper names them; one word per DBpedia-14 class.
std::vector<std::string> ClassNames(const std::string& dataset) {
  if (dataset == "agnews") return {"politics", "sports", "business", "technology"};
  // One word each, chosen among words the test documents use (DBpedia abstracts rarely say
  // "animal" or "transportation"): animals are mostly described as a "species" of something,
  // athletes as a "player", means of transportation are mostly ships.
  return {"company", "school",  "artist",  "player", "politician", "ship", "building",
          "river",   "village", "species", "plant",  "album",      "film", "book"};
}

struct Scores {
  double micro_f1 = 0;
  double macro_f1 = 0;
};

Scores Score(const std::vector<int>& truth, const std::vector<int>& predicted, int classes) {
  std::vector<double> tp(classes, 0), fp(classes, 0), fn(classes, 0);
  double correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == predicted[i]) {
      ++correct;
      ++tp[truth[i]];
    } else {
      ++fp[predicted[i]];
      ++fn[truth[i]];
    }
  }
  double macro = 0;
  for (int c = 0; c < classes; ++c) {
    const double denominator = 2 * tp[c] + fp[c] + fn[c];
    macro += denominator > 0 ? 2 * tp[c] / denominator : 0;
  }
  return {truth.empty() ? 0 : correct / truth.size(), macro / classes};
}

nlohmann::ordered_json ToJson(const Scores& s) { return {{"micro_f1", s.micro_f1}, {"macro_f1", s.macro_f1}}; }

// Progress on stderr, at most one line per second and stage change.
ProgressFn Printer(const std::string& tag) {
  auto last = std::make_shared<std::pair<std::string, double>>("", 0.0);
  auto watch = std::make_shared<Stopwatch>();
  return [=](std::string_view stage, double fraction, std::string_view message) {
    if (stage == last->first && watch->seconds() - last->second < 5) return;
    last->first = std::string(stage);
    last->second = watch->seconds();
    std::cerr << "[" << tag << " " << static_cast<int>(watch->seconds()) << "s] " << stage << " "
              << static_cast<int>(100 * fraction) << "%: " << message << std::endl;
  };
}

absl::StatusOr<ModelFiles> ReadTreeFiles(const std::filesystem::path& root) {
  ModelFiles files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto content = ReadFile(entry.path());
    if (!content.ok()) return content.status();
    files.contents[std::filesystem::relative(entry.path(), root).string()] = std::move(*content);
  }
  return files;
}

// Pretrains an encoder on `texts` into `dir`; returns what the JSON reports about it.
absl::StatusOr<nlohmann::ordered_json> Pretrain(const std::vector<std::string>& texts, const std::filesystem::path& dir,
                                                const Options& o, ThreadPool* pool) {
  v1::TrainStart start;
  start.set_family(v1::ENCODER_MLM);
  v1::EncoderConfig* c = start.mutable_config()->mutable_encoder();
  c->set_layers(o.layers);
  c->set_hidden_size(o.hidden);
  c->set_heads(o.heads);
  c->set_max_length(o.max_length);
  c->set_epochs(o.epochs);
  c->set_max_seconds(o.pretrain_seconds);
  c->set_learning_rate(o.learning_rate);
  // bert-base's 30,522 words, unless a vocabulary is to be learned (the server's default without
  // a vocab_file). A flag, since a JSON merge cannot clear vocab_file: proto3 skips empty strings.
  if (o.vocab_size > 0) {
    c->set_vocab_size(o.vocab_size);
  } else {
    c->set_vocab_file((std::filesystem::path(o.data_dir) / "vocab" / "bert-base-uncased-vocab.txt").string());
  }
  if (absl::Status s = MergeFromJson(o.encoder_config, c, "--encoder-config"); !s.ok()) return s;
  TrainingSet data;
  data.texts = texts;
  data.labels.assign(texts.size(), -1);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CancellationToken cancel;
  TrainContext ctx;
  ctx.pool = pool;
  ctx.cancel = &cancel;
  ctx.progress = Printer("pretrain");
  ctx.output_dir = dir;
  Stopwatch watch;
  auto manifest = encoder::EncoderMlmFamily()->train(start, data, ctx);
  if (!manifest.ok()) return manifest.status();
  const v1::EncoderState& s = manifest->encoder();
  return nlohmann::ordered_json{{"path", dir.string()},
                                {"layers", o.layers},
                                {"hidden", o.hidden},
                                {"heads", o.heads},
                                {"max_length", o.max_length},
                                {"parameters", s.parameters()},
                                {"pretrain_texts", texts.size()},
                                {"pretrain_steps", s.steps()},
                                {"pretrain_sequences", s.sequences()},
                                {"pretrain_seconds", watch.seconds()},
                                {"pretrain_sequences_per_s",
                                 watch.seconds() > 0 ? static_cast<double>(s.sequences()) / watch.seconds() : 0.0},
                                {"mlm_loss", s.final_loss()},
                                {"mlm_masked_accuracy", s.masked_accuracy()},
                                {"device", s.device()}};
}

// A stratified sample of `count` documents (all when 0 or more than there are).
void Sample(const data::Dataset& d, size_t count, std::vector<std::string>* texts, std::vector<int>* labels) {
  std::vector<size_t> order(d.test_texts.size());
  std::iota(order.begin(), order.end(), 0);
  if (count > 0 && count < order.size()) {
    std::mt19937_64 rng(17);
    std::shuffle(order.begin(), order.end(), rng);
    const size_t classes = d.classes.size();
    std::vector<size_t> per_class(classes, 0);
    std::vector<size_t> kept;
    for (size_t i : order) {
      if (per_class[d.test_labels[i]] < count / classes) {
        ++per_class[d.test_labels[i]];
        kept.push_back(i);
      }
    }
    std::sort(kept.begin(), kept.end());
    order = kept;
  }
  for (size_t i : order) {
    texts->push_back(d.test_texts[i]);
    labels->push_back(d.test_labels[i]);
  }
}

// One X-Class run (with `config`), scored against the labels; `final` also trains and applies
// the final classifier.
absl::StatusOr<nlohmann::ordered_json> RunXClass(const v1::XClassConfig& config, const TrainingSet& data,
                                                 const std::vector<int>& truth, const xclass::EncodedCorpus* corpus,
                                                 const xclass::EncoderFacts& facts, bool final,
                                                 const std::filesystem::path& out, ThreadPool* pool,
                                                 const std::string& tag) {
  const int classes = static_cast<int>(data.classes.size());
  nlohmann::ordered_json j;
  CancellationToken cancel;
  TrainContext ctx;
  ctx.pool = pool;
  ctx.cancel = &cancel;
  ctx.progress = Printer(tag);
  xclass::XClassReport report;
  if (!final) {
    auto resolved = xclass::ResolveXClassConfig(config);
    if (!resolved.ok()) return resolved.status();
    resolved = xclass::ResolveForEncoder(*resolved, facts);
    if (!resolved.ok()) return resolved.status();
    std::vector<std::vector<std::string>> words;
    auto checkpoint = encoder::ReadCheckpointFolder(config.encoder_path());
    if (!checkpoint.ok()) return checkpoint.status();
    auto tokenizer = encoder::BertTokenizer::Create(checkpoint->vocab);
    if (!tokenizer.ok()) return tokenizer.status();
    for (const auto& name : data.classes) words.push_back(tokenizer->BasicTokenize(name));
    v1::XClassConfig c = *resolved;
    c.set_layer(corpus->layer);
    auto alignment = xclass::AlignDocuments(*corpus, data.classes, words, c, &cancel, [](double, std::string_view) {});
    if (!alignment.ok()) return alignment.status();
    report.alignment = std::move(*alignment);
    report.seconds = report.alignment.seconds;
  } else {
    std::filesystem::remove_all(out);
    std::filesystem::create_directories(out);
    ctx.output_dir = out;
    v1::TrainStart start;
    start.set_model("bench");
    start.set_family(v1::XCLASS);
    *start.mutable_config()->mutable_xclass() = config;
    auto manifest = xclass::TrainXClass(start, data, ctx, &report, corpus);
    if (!manifest.ok()) return manifest.status();
    auto files = ReadTreeFiles(out);
    if (!files.ok()) return files.status();
    auto model = xclass::XClassFamily()->load(*manifest, *files);
    if (!model.ok()) return model.status();
    Stopwatch watch;
    std::vector<int> predicted;
    const size_t batch = 256;
    for (size_t begin = 0; begin < data.texts.size(); begin += batch) {
      std::vector<ModelInput> inputs;
      for (size_t i = begin; i < std::min(data.texts.size(), begin + batch); ++i) inputs.push_back({data.texts[i]});
      ScoreMatrix scores;
      if (auto s = (*model)->Run(inputs, Device{Device::Kind::kCpu, 0, pool}, &scores); !s.ok()) return s;
      for (size_t i = 0; i < inputs.size(); ++i) predicted.push_back(static_cast<int>(scores.Argmax(i)));
    }
    report.seconds["predict"] = watch.seconds();
    j["final"] = ToJson(Score(truth, predicted, classes));
    j["final_classifier"] = v1::XClassConfig::FinalClassifier_Name(manifest->xclass().resolved().final_classifier());
    j["final_train_loss"] = report.final_train_loss;
    j["predict_docs_per_s"] = data.texts.size() / std::max(1e-9, report.seconds["predict"]);
  }
  const xclass::Alignment& a = report.alignment;
  j["rep"] = ToJson(Score(truth, a.nearest, classes));
  j["align"] = ToJson(Score(truth, a.aligned, classes));
  std::vector<int> selected_truth, selected_labels;
  for (size_t i : a.selected) {
    selected_truth.push_back(truth[i]);
    selected_labels.push_back(a.aligned[i]);
  }
  j["select"] = ToJson(Score(selected_truth, selected_labels, classes));
  j["selected_documents"] = a.selected.size();
  j["pca_components"] = a.pca_components;
  j["pca_explained_variance"] = a.pca_explained_variance;
  j["gmm_iterations"] = a.gmm_iterations;
  j["seconds"] = report.seconds;
  nlohmann::ordered_json keywords;
  for (size_t c = 0; c < a.keywords.size(); ++c) {
    std::vector<std::string> first(a.keywords[c].begin(), a.keywords[c].begin() + std::min<size_t>(12, a.keywords[c].size()));
    keywords[data.classes[c]] = {{"count", a.keywords[c].size()}, {"first", first}};
  }
  j["keywords"] = keywords;
  return j;
}

int RunDataset(const std::string& name, const Options& o, ThreadPool* pool) {
  Stopwatch total;
  auto dataset = name == "agnews" ? data::LoadAgNews(o.data_dir) : data::LoadDbpedia14(o.data_dir);
  if (!dataset.ok()) {
    std::cerr << "xclass_bench: " << dataset.status().message() << "\n";
    return 1;
  }
  nlohmann::ordered_json out;
  out["dataset"] = name;
  // The encoder: reused, or pretrained on the data set's texts (train and test, no labels).
  std::filesystem::path encoder_dir = o.encoder;
  if (o.encoder.empty()) {
    std::vector<std::string> texts = dataset->train_texts;
    texts.insert(texts.end(), dataset->test_texts.begin(), dataset->test_texts.end());
    if (o.pretrain_texts > 0 && o.pretrain_texts < texts.size()) {
      std::mt19937_64 rng(5);
      std::shuffle(texts.begin(), texts.end(), rng);
      texts.resize(o.pretrain_texts);
    }
    encoder_dir = std::filesystem::path(o.work_dir) / ("encoder-" + name);
    auto info = Pretrain(texts, encoder_dir, o, pool);
    if (!info.ok()) {
      std::cerr << "xclass_bench: pretraining failed: " << info.status().message() << "\n";
      return 1;
    }
    out["encoder"] = *info;
    std::cerr << "xclass_bench: pretrained encoder saved in " << encoder_dir.string()
              << " (reuse it with --encoder)" << std::endl;
  } else {
    out["encoder"] = {{"path", o.encoder}, {"pretrained_here", false}};
  }

  TrainingSet data;
  data.classes = ClassNames(name);
  std::vector<int> truth;
  Sample(*dataset, o.documents, &data.texts, &truth);
  data.labels.assign(data.texts.size(), -1);  // X-Class never sees the labels
  out["documents"] = data.texts.size();
  out["class_names"] = data.classes;

  v1::XClassConfig base;
  base.set_encoder_path(encoder_dir.string());
  if (o.final_classifier == "fine_tune") base.set_final_classifier(v1::XClassConfig::FINE_TUNE);
  if (o.final_classifier == "frozen_head") base.set_final_classifier(v1::XClassConfig::FROZEN_HEAD);
  if (absl::Status s = MergeFromJson(o.xclass_config, &base, "--xclass-config"); !s.ok()) {
    std::cerr << "xclass_bench: " << s.message() << "\n";
    return 2;
  }
  out["xclass_config_overrides"] = nlohmann::ordered_json::parse(o.xclass_config.empty() ? "{}" : o.xclass_config);
  // Encode once (with attention, for the attention option) and reuse it for every run.
  auto checkpoint = encoder::ReadCheckpointFolder(encoder_dir);
  if (!checkpoint.ok()) {
    std::cerr << "xclass_bench: " << checkpoint.status().message() << "\n";
    return 1;
  }
  auto encoder = encoder::Encoder::Load(*checkpoint, "auto");
  auto resolved = xclass::ResolveXClassConfig(base);
  if (!encoder.ok() || !resolved.ok()) {
    std::cerr << "xclass_bench: " << (encoder.ok() ? resolved.status() : encoder.status()).message() << "\n";
    return 1;
  }
  const xclass::EncoderFacts facts{(*encoder)->parameter_count(), (*encoder)->config().num_hidden_layers,
                                   (*encoder)->config().max_position_embeddings, (*encoder)->on_cuda()};
  auto for_encoder = xclass::ResolveForEncoder(*resolved, facts);
  if (!for_encoder.ok()) {
    std::cerr << "xclass_bench: " << for_encoder.status().message() << "\n";
    return 1;
  }
  out["word_representations"] = {
      {"mode", v1::XClassConfig::WordRepresentations_Name(for_encoder->word_representations())},
      {"remove_top_directions", for_encoder->remove_top_directions()},
      {"document_context", for_encoder->document_context()}};
  Stopwatch encode_watch;
  auto corpus = xclass::EncodeCorpus(**encoder, data.texts, *for_encoder, /*with_attention=*/true, nullptr,
                                     [printer = Printer("encode")](double f, std::string_view m) { printer("encode", f, m); });
  if (!corpus.ok()) {
    std::cerr << "xclass_bench: " << corpus.status().message() << "\n";
    return 1;
  }
  const double encode_seconds = encode_watch.seconds();
  out["vocabulary_words"] = corpus->vocab.size();
  encoder->reset();

  const std::filesystem::path model_dir = std::filesystem::path(o.work_dir) / ("model-" + name);
  auto baseline = RunXClass(base, data, truth, &*corpus, facts, o.final, model_dir, pool, name + " baseline");
  if (!baseline.ok()) {
    std::cerr << "xclass_bench: " << baseline.status().message() << "\n";
    return 1;
  }
  (*baseline)["seconds"]["encode"] = encode_seconds;
  for (const char* stage : {"rep", "align", "select", "final"}) out[stage] = (*baseline)[stage];
  for (const char* key : {"final_classifier", "final_train_loss", "predict_docs_per_s", "selected_documents",
                          "pca_components", "pca_explained_variance", "gmm_iterations", "seconds", "keywords"}) {
    out[key] = (*baseline)[key];
  }
  std::cout << out.dump() << std::endl;  // the baseline first, in case the options take long

  // The study's options, one at a time, then all together (the study's "improved" variant); then
  // the word-representation adjustment (the default for small encoders) piece by piece.
  struct Variant {
    std::string name;
    std::function<void(v1::XClassConfig*)> apply;
  };
  const std::vector<Variant> variants = {
      {"attention_weights", [](v1::XClassConfig* c) { c->set_attention_weights(true); }},
      {"pca_variance_0.95", [](v1::XClassConfig* c) { c->set_pca_variance(0.95); }},
      {"incremental_pca", [](v1::XClassConfig* c) { c->set_incremental_pca(true); }},
      {"per_class_thresholds", [](v1::XClassConfig* c) { c->set_per_class_thresholds(true); }},
      {"all_four", [](v1::XClassConfig* c) {
         c->set_attention_weights(true);
         c->set_pca_variance(0.95);
         c->set_incremental_pca(true);
         c->set_per_class_thresholds(true);
       }},
      {"words_as_encoded", [](v1::XClassConfig* c) { c->set_word_representations(v1::XClassConfig::AS_ENCODED); }},
      {"words_centered_only", [](v1::XClassConfig* c) {
         c->set_word_representations(v1::XClassConfig::ADJUSTED);
         c->set_document_context(-1);
       }},
      {"words_document_context_1", [](v1::XClassConfig* c) {
         c->set_word_representations(v1::XClassConfig::ADJUSTED);
         c->set_document_context(1);
       }},
      {"words_remove_top_2", [](v1::XClassConfig* c) {
         c->set_word_representations(v1::XClassConfig::ADJUSTED);
         c->set_remove_top_directions(2);
       }}};
  std::vector<Variant> measured = o.options ? variants : std::vector<Variant>{};
  for (const std::string& spec : o.variants) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "xclass_bench: --variant takes NAME=JSON, got " << spec << "\n";
      return 2;
    }
    v1::XClassConfig overrides;
    if (absl::Status s = MergeFromJson(spec.substr(eq + 1), &overrides, "--variant " + spec.substr(0, eq)); !s.ok()) {
      std::cerr << "xclass_bench: " << s.message() << "\n";
      return 2;
    }
    measured.push_back({spec.substr(0, eq), [overrides](v1::XClassConfig* c) { c->MergeFrom(overrides); }});
  }
  nlohmann::ordered_json options = nlohmann::ordered_json::array();
  for (const Variant& v : measured) {
    v1::XClassConfig config = base;
    v.apply(&config);
    auto result = RunXClass(config, data, truth, &*corpus, facts, o.final && o.variant_final, model_dir, pool, name + " " + v.name);
    if (!result.ok()) {
      std::cerr << "xclass_bench: option " << v.name << ": " << result.status().message() << "\n";
      return 1;
    }
    nlohmann::ordered_json entry;
    entry["option"] = v.name;
    for (const char* stage : {"rep", "align", "select", "final"}) {
      if (result->contains(stage)) entry[stage] = (*result)[stage];
    }
    entry["selected_documents"] = (*result)["selected_documents"];
    entry["pca_components"] = (*result)["pca_components"];
    entry["keywords"] = (*result)["keywords"];
    entry["seconds"] = (*result)["seconds"];
    options.push_back(entry);
  }
  out["options"] = options;
  out["total_seconds"] = total.seconds();
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace textclf::bench

int main(int argc, char** argv) {
  textclf::torch_support::UseFastestOpenBlasKernel(argv);  // before any thread starts
  using namespace textclf;
  bench::Options o;
  CLI::App app{"xclass_bench: X-Class with a locally pretrained encoder on AG News and DBpedia-14"};
  app.add_option("--data", o.data_dir, "data folder (default $TEXTCLF_DATA or ../shared/data)");
  app.add_option("--dataset", o.datasets, "agnews and/or dbpedia14")->delimiter(',')->capture_default_str();
  app.add_option("--encoder", o.encoder, "reuse this checkpoint folder instead of pretraining");
  app.add_option("--work-dir", o.work_dir, "where pretrained encoders and models go")->capture_default_str();
  app.add_option("--layers", o.layers, "pretrained encoder layers")->capture_default_str();
  app.add_option("--hidden", o.hidden, "pretrained encoder hidden size")->capture_default_str();
  app.add_option("--heads", o.heads, "pretrained encoder attention heads")->capture_default_str();
  app.add_option("--max-length", o.max_length, "pretraining sequence length")->capture_default_str();
  app.add_option("--epochs", o.epochs, "pretraining epochs")->capture_default_str();
  app.add_option("--pretrain-seconds", o.pretrain_seconds, "time budget of each pretraining (0: none)");
  app.add_option("--vocab-size", o.vocab_size,
                 "learn a WordPiece vocabulary of this many words from the texts instead of bert-base's 30,522");
  app.add_option("--pretrain-texts", o.pretrain_texts, "pretrain on a sample of this many texts (0: all)");
  app.add_option("--learning-rate", o.learning_rate, "pretraining peak learning rate")->capture_default_str();
  app.add_option("--documents", o.documents, "X-Class on a stratified sample of this many test documents (0: all)");
  app.add_option("--final-classifier", o.final_classifier, "fine_tune or frozen_head (default: auto)");
  app.add_flag("!--no-variant-final", o.variant_final, "options: stop after selection (no final classifier)");
  app.add_option("--threads", o.threads, "CPU threads (default: all cores)");
  app.add_flag("!--no-final", o.final, "stop after selection (no final classifier at all)");
  app.add_flag("!--no-options", o.options, "skip the study's options (the baseline only)");
  app.add_option("--encoder-config", o.encoder_config, "JSON merged into the pretraining config (EncoderConfig)");
  app.add_option("--xclass-config", o.xclass_config, "JSON merged into every X-Class config (XClassConfig)");
  app.add_option("--variant", o.variants,
                 "NAME=JSON: also measure the baseline with these XClassConfig overrides (repeatable), e.g. "
                 "'centered={\"centerRepresentations\":true}'");
  CLI11_PARSE(app, argc, argv);
  if (o.threads <= 0) o.threads = ThreadPool::HardwareThreads();
  ThreadPool pool(o.threads);
  for (const std::string& name : o.datasets) {
    if (name != "agnews" && name != "dbpedia14") {
      std::cerr << "xclass_bench: unknown data set " << name << "; use agnews or dbpedia14\n";
      return 2;
    }
    if (int rc = bench::RunDataset(name, o, &pool); rc != 0) return rc;
  }
  return 0;
}
