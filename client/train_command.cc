// textclf train: streams a labelled CSV to the server and follows the training job.
#include <cctype>
#include <iostream>
#include <memory>
#include <random>

#include <CLI/CLI.hpp>

#include "client/cli_common.h"
#include "client/commands.h"
#include "client/progress_bar.h"
#include "client/table.h"
#include "core/common/files.h"
#include "core/common/proto_json.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "core/data/idx_examples.h"
#include "core/data/labeled_csv.h"
#include "core/model/family_names.h"

namespace textclf::client {
namespace {

struct TrainOptions {
  // No deadline by default: a job may train for hours, and a deadline that passes cancels it.
  ConnectionOptions connection{/*default_timeout_s=*/0};
  std::string name;
  std::string family = "zest";
  std::string csv;
  std::vector<std::string> text_columns;
  std::string label_column;
  std::string eval_csv;
  // Images (IMAGE_CNN): IDX files, labels as class indices.
  std::string idx_images, idx_labels, eval_idx_images, eval_idx_labels;
  int64_t idx_limit = 0;
  double eval_fraction = 0;
  std::string eval_dataset = "eval";
  std::string config;  // JSON text or @file
  std::vector<std::string> class_names;
  // ENSEMBLE: members as NAME or NAME:VERSION, and how their probabilities are combined.
  std::vector<std::string> members;
  std::string combination;
  int batch_size = 1000;
  bool no_load = false;
  bool json = false;
  bool quiet = false;
};

// Labelled texts, or images with their labels: what the train command sends.
struct Examples {
  data::LabeledTexts texts;
  std::vector<v1::Example> images;  // labelled tensors
  size_t size() const { return images.empty() ? texts.texts.size() : images.size(); }
};

void SendExamples(grpc::ClientReaderWriter<v1::TrainRequest, v1::TrainResponse>* stream,
                  const Examples& data, const std::vector<size_t>& rows, v1::Split split,
                  int batch_size, ProgressBar* bar, size_t* sent, size_t total) {
  v1::TrainRequest request;
  for (size_t k = 0; k < rows.size(); ++k) {
    v1::Example* e = request.mutable_batch()->add_examples();
    if (data.images.empty()) {
      e->set_text(data.texts.texts[rows[k]]);
      if (!data.texts.labels.empty()) e->set_label(data.texts.labels[rows[k]]);
    } else {
      *e = data.images[rows[k]];
    }
    if (request.batch().examples_size() == batch_size || k + 1 == rows.size()) {
      request.mutable_batch()->set_split(split);
      *sent += request.batch().examples_size();
      if (!stream->Write(request)) return;
      bar->Update("upload", static_cast<double>(*sent) / total, std::to_string(*sent) + " examples sent");
      request.Clear();
    }
  }
}

// "zest_news:3" -> {zest_news, 3}; "zest_news" -> {zest_news, 0}, the latest (pinned by the server).
absl::StatusOr<v1::ModelReference> ParseMember(const std::string& text) {
  v1::ModelReference ref;
  const size_t colon = text.rfind(':');
  ref.set_name(text.substr(0, colon));
  if (colon != std::string::npos) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(text.substr(colon + 1), &version) || version <= 0) {
      return absl::InvalidArgumentError("--member " + text + ": the version after ':' must be a positive number");
    }
    ref.set_version(version);
  }
  if (ref.name().empty()) return absl::InvalidArgumentError("--member " + text + ": give NAME or NAME:VERSION");
  return ref;
}

// --member and --combination into the config's ensemble part (after --config, which they extend).
absl::Status AddEnsembleOptions(const TrainOptions& o, v1::TrainStart* start) {
  if (start->family() != v1::ENSEMBLE) {
    if (!o.members.empty() || !o.combination.empty()) {
      return absl::InvalidArgumentError("--member and --combination are for --family ensemble");
    }
    return absl::OkStatus();
  }
  v1::EnsembleConfig* config = start->mutable_config()->mutable_ensemble();
  for (const std::string& m : o.members) {
    auto ref = ParseMember(m);
    if (!ref.ok()) return ref.status();
    *config->add_members() = *ref;
  }
  if (!o.combination.empty()) {
    v1::EnsembleConfig::Combination combination;
    std::string upper = o.combination;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!v1::EnsembleConfig::Combination_Parse(upper, &combination) || combination == v1::EnsembleConfig::COMBINATION_AUTO) {
      return absl::InvalidArgumentError("--combination must be average, weighted or stacking");
    }
    config->set_combination(combination);
  }
  return absl::OkStatus();
}

int RunTrain(const TrainOptions& o) {
  auto family = ParseFamily(o.family);
  if (!family.ok()) return ReportInputError(std::string(family.status().message()));
  v1::TrainStart start;
  start.set_model(o.name);
  start.set_family(*family);
  start.set_skip_load(o.no_load);
  start.set_eval_dataset(o.eval_dataset);
  for (const auto& c : o.class_names) start.add_class_names(c);
  if (!o.config.empty()) {
    std::string json = o.config;
    if (json[0] == '@') {
      auto file = ReadFile(json.substr(1));
      if (!file.ok()) return ReportInputError(std::string(file.status().message()));
      json = *file;
    }
    if (auto s = FromJson(json, start.mutable_config(), "--config"); !s.ok()) {
      return ReportInputError(std::string(s.message()));
    }
  }
  if (auto s = AddEnsembleOptions(o, &start); !s.ok()) return ReportInputError(std::string(s.message()));
  // An ensemble trains nothing: --csv, when given, is its CALIBRATION split (for weighted and
  // stacking), texts its members did not train on.
  const bool ensemble = *family == v1::ENSEMBLE;
  Examples data, eval_data;
  if (ensemble && o.csv.empty()) {
    // Members only: an averaged ensemble needs no examples.
  } else if (!o.idx_images.empty()) {
    auto read = textclf::data::ReadIdxExamples(o.idx_images, o.idx_labels, 0, o.idx_limit, o.class_names);
    if (!read.ok()) return ReportInputError(std::string(read.status().message()));
    data.images = std::move(*read);
    if (!o.eval_idx_images.empty()) {
      auto eval_read = textclf::data::ReadIdxExamples(o.eval_idx_images, o.eval_idx_labels, 0, o.idx_limit, o.class_names);
      if (!eval_read.ok()) return ReportInputError(std::string(eval_read.status().message()));
      eval_data.images = std::move(*eval_read);
    }
  } else {
    if (o.csv.empty() || o.text_columns.empty()) {
      return ReportInputError("give the data with --csv FILE --text-column COL (or --idx-images for images)");
    }
    // Without --label-column the texts go unlabeled; the server knows which families take that
    // (xclass, encoder_mlm) and refuses the rest.
    auto read = data::ReadLabeledCsv(o.csv, o.text_columns, o.label_column);
    if (!read.ok()) return ReportInputError(std::string(read.status().message()));
    data.texts = std::move(*read);
    if (!o.eval_csv.empty()) {
      auto eval_read = data::ReadLabeledCsv(o.eval_csv, o.text_columns, o.label_column);
      if (!eval_read.ok()) return ReportInputError(std::string(eval_read.status().message()));
      eval_data.texts = std::move(*eval_read);
    }
  }
  std::vector<size_t> train_rows, eval_rows;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (size_t i = 0; i < data.size(); ++i) {
    (o.eval_fraction > 0 && uniform(rng) < o.eval_fraction ? eval_rows : train_rows).push_back(i);
  }

  std::optional<Connection> connection = Connect(o.connection);
  if (!connection) return kExitInputError;
  grpc::ClientContext context;
  connection->SetDeadline(&context);
  auto stream = connection->stub->Train(&context);
  ProgressBar bar(!o.quiet);
  v1::TrainRequest first;
  *first.mutable_start() = start;
  size_t sent = 0;
  const size_t total = data.size() + eval_data.size();
  if (stream->Write(first)) {
    SendExamples(stream.get(), data, train_rows, ensemble ? v1::CALIBRATION : v1::TRAIN, o.batch_size, &bar, &sent,
                 total);
    SendExamples(stream.get(), data, eval_rows, v1::EVAL, o.batch_size, &bar, &sent, total);
    std::vector<size_t> all(eval_data.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    SendExamples(stream.get(), eval_data, all, v1::EVAL, o.batch_size, &bar, &sent, total);
  }
  stream->WritesDone();
  v1::TrainResponse response;
  v1::TrainResult result;
  bool got_result = false;
  while (stream->Read(&response)) {
    if (response.has_progress()) {
      bar.Update(response.progress().stage(), response.progress().fraction(), response.progress().message());
    } else if (response.has_result()) {
      result = response.result();
      got_result = true;
    }
  }
  bar.Finish();
  grpc::Status status = stream->Finish();
  if (!status.ok() && status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && o.label_column.empty() &&
      o.idx_images.empty() && status.error_message().find("has no label") != std::string::npos) {
    status = grpc::Status(status.error_code(),
                          status.error_message() + " (this family trains on labelled texts: give --label-column)");
  }
  if (!status.ok()) return connection->ReportError(status);
  if (!got_result) return ReportRpcError(grpc::Status(grpc::StatusCode::INTERNAL, "the server sent no result"));
  if (o.json) {
    std::cout << ToJsonLine(result) << "\n";
    return 0;
  }
  std::cout << "trained " << o.name << " version " << result.version() << " in "
            << Fixed(result.train_seconds(), 2) << " s\n";
  if (result.has_eval_metrics()) {
    const auto& m = result.eval_metrics();
    std::cout << "evaluation on " << m.examples() << " examples: accuracy " << Fixed(m.accuracy(), 4)
              << ", macro-F1 " << Fixed(m.macro_f1(), 4);
    if (m.has_auc()) std::cout << ", AUC " << Fixed(m.auc(), 4);
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "train a new model version from a labelled CSV");
  AddConnectionFlags(cmd, &o->connection, "seconds the upload and the training job may take, past which the job is cancelled (0: no deadline)");
  cmd->add_option("--name", o->name, "model name")->required();
  cmd->add_option("--family", o->family, "zest, xclass, text_cnn, image_cnn, encoder_mlm, linear or ensemble")->capture_default_str();
  cmd->add_option("--member", o->members,
                  "ensemble: a member model as NAME or NAME:VERSION (latest when no version); repeat for each");
  cmd->add_option("--combination", o->combination,
                  "ensemble: average (default), weighted or stacking; the last two fit on --csv as a calibration split");
  cmd->add_option("--csv", o->csv, "training data (CSV with a header)");
  cmd->add_option("--text-column", o->text_columns, "text column; repeat to join several with a space");
  cmd->add_option("--label-column", o->label_column, "label column (not for xclass / encoder_mlm)");
  cmd->add_option("--idx-images", o->idx_images, "images (IDX, e.g. Fashion-MNIST), instead of --csv");
  cmd->add_option("--idx-labels", o->idx_labels, "labels of --idx-images (IDX)");
  cmd->add_option("--eval-idx-images", o->eval_idx_images, "evaluation images (IDX)");
  cmd->add_option("--eval-idx-labels", o->eval_idx_labels, "labels of --eval-idx-images (IDX)");
  cmd->add_option("--idx-limit", o->idx_limit, "use at most this many images of each IDX file");
  cmd->add_option("--eval-csv", o->eval_csv, "evaluation data, same columns");
  cmd->add_option("--eval-fraction", o->eval_fraction, "hold out this fraction of --csv for evaluation");
  cmd->add_option("--eval-dataset", o->eval_dataset, "name the evaluation metrics are recorded under")->capture_default_str();
  cmd->add_option("--config", o->config, "model config as JSON (textclf.v1.ModelConfig), or @FILE");
  cmd->add_option("--class-names", o->class_names, "class names in order (default: labels seen, sorted)");
  cmd->add_option("--batch-size", o->batch_size, "examples per message")->capture_default_str();
  cmd->add_flag("--no-load", o->no_load, "publish without loading it for serving");
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->add_flag("--quiet", o->quiet, "no progress output");
  cmd->callback([o, exit_code] { *exit_code = RunTrain(*o); });
}

}  // namespace textclf::client
