// textclf quantize: post-training quantization of a CNN model on the server. Streams labelled
// calibration (and evaluation) examples from a CSV or IDX files, follows the job, prints the
// report as a table, and writes it as JSON and as an SVG picture.
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/cli_common.h"
#include "client/commands.h"
#include "client/progress_bar.h"
#include "client/quantize_report_svg.h"
#include "client/table.h"
#include "core/common/files.h"
#include "core/data/idx_examples.h"
#include "core/data/labeled_csv.h"

namespace textclf::client {
namespace {

struct QuantizeOptions {
  // No deadline by default: calibration and the sweep may run long, and a deadline that passes
  // cancels the job.
  ConnectionOptions connection{/*default_timeout_s=*/0};
  std::string name;
  int64_t version = 0;
  std::string target;
  std::vector<int> weight_bits = {8};
  std::string activation_bits = "8";
  bool per_tensor = false;
  std::string calibration_method = "percentile";
  double percentile = 99.99;
  int first_last_bits = 8;
  bool no_temperature = false;
  // Calibration data (required) and evaluation data (optional): a CSV or IDX files.
  std::string csv, eval_csv;
  std::vector<std::string> text_columns;
  std::string label_column;
  std::string idx_images, idx_labels, eval_idx_images, eval_idx_labels;
  int64_t idx_offset = 0;
  int64_t limit = 0, eval_limit = 0;
  std::vector<std::string> class_names;
  std::string eval_dataset = "eval";
  std::string report = "quantize-report.json";
  std::string svg = "quantize-report.svg";
  int batch_size = 500;
  bool skip_load = false;
  bool json = false;
  bool quiet = false;
};

using Examples = std::vector<v1::Example>;

// Proto3 JSON writes 64-bit integers as strings; the report is for people and plotting scripts,
// so its counts, versions and byte sizes are written as JSON numbers (the field names and the
// layout stay those of textclf.v1.QuantizeReport).
void Int64FieldsAsNumbers(const google::protobuf::Descriptor& descriptor, nlohmann::json* json) {
  if (!json->is_object()) return;
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const google::protobuf::FieldDescriptor& field = *descriptor.field(i);
    auto it = json->find(field.name());
    if (it == json->end()) continue;
    auto convert = [&](nlohmann::json& value) {
      using Type = google::protobuf::FieldDescriptor::CppType;
      if (field.cpp_type() == Type::CPPTYPE_MESSAGE) {
        Int64FieldsAsNumbers(*field.message_type(), &value);
      } else if (value.is_string() && field.cpp_type() == Type::CPPTYPE_INT64) {
        value = std::stoll(value.get<std::string>());
      } else if (value.is_string() && field.cpp_type() == Type::CPPTYPE_UINT64) {
        value = std::stoull(value.get<std::string>());
      }
    };
    if (it->is_array()) {
      for (nlohmann::json& element : *it) convert(element);
    } else {
      convert(*it);
    }
  }
}

std::string ReportJson(const v1::QuantizeReport& report) {
  nlohmann::json json = nlohmann::json::parse(ToJsonLine(report));
  Int64FieldsAsNumbers(*v1::QuantizeReport::descriptor(), &json);
  return json.dump(2);
}

// A seeded random subset of at most `limit` rows (all when limit is 0), in file order.
std::vector<size_t> Subset(size_t n, int64_t limit) {
  std::vector<size_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  if (limit <= 0 || static_cast<size_t>(limit) >= n) return rows;
  std::mt19937_64 rng(2021);
  std::shuffle(rows.begin(), rows.end(), rng);
  rows.resize(static_cast<size_t>(limit));
  std::sort(rows.begin(), rows.end());
  return rows;
}

absl::StatusOr<Examples> ReadCsvExamples(const QuantizeOptions& o, const std::string& path, int64_t limit) {
  if (o.text_columns.empty() || o.label_column.empty()) {
    return absl::InvalidArgumentError("a CSV needs --text-column and --label-column");
  }
  auto read = data::ReadLabeledCsv(path, o.text_columns, o.label_column);
  if (!read.ok()) return read.status();
  Examples out;
  for (size_t i : Subset(read->texts.size(), limit)) {
    v1::Example e;
    e.set_text(read->texts[i]);
    e.set_label(read->labels[i]);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<v1::QuantizeStart> MakeStart(const QuantizeOptions& o) {
  v1::QuantizeStart start;
  start.set_model(o.name);
  start.set_version(o.version);
  start.set_target_model(o.target);
  for (int b : o.weight_bits) start.add_weight_bits(b);
  start.set_sweep(o.weight_bits.size() > 1);
  if (o.activation_bits == "float" || o.activation_bits == "32") {
    start.set_activation_bits(32);
  } else {
    try {
      start.set_activation_bits(std::stoi(o.activation_bits));
    } catch (const std::exception&) {
      return absl::InvalidArgumentError("--activation-bits takes a number of bits (2..8) or \"float\"");
    }
  }
  start.set_granularity(o.per_tensor ? v1::QuantizeStart::PER_TENSOR : v1::QuantizeStart::PER_CHANNEL);
  if (o.calibration_method == "minmax") {
    start.set_calibration(v1::QuantizeStart::MIN_MAX);
  } else if (o.calibration_method == "percentile") {
    start.set_calibration(v1::QuantizeStart::PERCENTILE);
  } else if (o.calibration_method == "mse") {
    start.set_calibration(v1::QuantizeStart::MSE);
  } else {
    return absl::InvalidArgumentError("--calibration is minmax, percentile or mse");
  }
  start.set_percentile(o.percentile);
  start.set_first_last_bits(o.first_last_bits);
  start.set_temperature_scaling(!o.no_temperature);
  start.set_skip_load(o.skip_load);
  start.set_eval_dataset(o.eval_dataset);
  return start;
}

void PrintReport(const v1::QuantizeReport& report) {
  Table table({"variant", "version", "top-1", "top-5", "NLL", "ECE", "ECE after T", "T", "swapped", "file"});
  auto add = [&](const v1::VariantReport& r, bool quantized) {
    table.AddRow({r.label(), std::to_string(r.version()), Fixed(r.top1(), 4), r.has_top5() ? Fixed(r.top5(), 4) : "-",
                  Fixed(r.nll(), 4), Fixed(r.ece(), 4), Fixed(r.ece_after_temperature(), 4), Fixed(r.temperature(), 3),
                  quantized ? Fixed(100 * r.swap_rate(), 2) + "%" : "-",
                  quantized ? Fixed(100 * r.file_fraction(), 1) + "%" : std::to_string(r.file_bytes()) + " B"});
  };
  add(report.float_model(), false);
  for (const auto& r : report.variants()) add(r, true);
  std::cout << "evaluated on " << report.eval_examples() << " examples (" << report.dataset() << "), calibrated on "
            << report.calibration_examples() << "\n";
  table.Print(std::cout);
}

int RunQuantize(const QuantizeOptions& o) {
  auto start = MakeStart(o);
  if (!start.ok()) return ReportInputError(std::string(start.status().message()));
  absl::StatusOr<Examples> calibration = absl::InvalidArgumentError(
      "give calibration data: --csv FILE --text-column COL --label-column COL, or --idx-images and --idx-labels");
  if (!o.idx_images.empty()) {
    calibration = data::ReadIdxExamples(o.idx_images, o.idx_labels, o.idx_offset, o.limit, o.class_names);
  } else if (!o.csv.empty()) {
    calibration = ReadCsvExamples(o, o.csv, o.limit);
  }
  if (!calibration.ok()) return ReportInputError(std::string(calibration.status().message()));
  Examples eval;
  if (!o.eval_idx_images.empty()) {
    auto read = data::ReadIdxExamples(o.eval_idx_images, o.eval_idx_labels, 0, o.eval_limit, o.class_names);
    if (!read.ok()) return ReportInputError(std::string(read.status().message()));
    eval = std::move(*read);
  } else if (!o.eval_csv.empty()) {
    auto read = ReadCsvExamples(o, o.eval_csv, o.eval_limit);
    if (!read.ok()) return ReportInputError(std::string(read.status().message()));
    eval = std::move(*read);
  }

  std::optional<Connection> connection = Connect(o.connection);
  if (!connection) return kExitInputError;
  grpc::ClientContext context;
  connection->SetDeadline(&context);
  auto stream = connection->stub->Quantize(&context);
  ProgressBar bar(!o.quiet);
  v1::QuantizeRequest request;
  *request.mutable_start() = *start;
  bool open = stream->Write(request);
  for (auto [examples, split] : {std::pair{&*calibration, v1::CALIBRATION}, std::pair{&eval, v1::EVAL}}) {
    request.Clear();
    for (size_t i = 0; i < examples->size() && open; ++i) {
      *request.mutable_batch()->add_examples() = (*examples)[i];
      if (request.batch().examples_size() == o.batch_size || i + 1 == examples->size()) {
        request.mutable_batch()->set_split(split);
        open = stream->Write(request);
        request.Clear();
      }
    }
  }
  stream->WritesDone();
  v1::QuantizeResponse response;
  v1::QuantizeResult result;
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
  if (!status.ok()) return connection->ReportError(status);
  if (!got_result) return ReportRpcError(grpc::Status(grpc::StatusCode::INTERNAL, "the server sent no result"));
  if (!o.report.empty()) {
    if (auto s = WriteFileDurably(o.report, ReportJson(result.report()) + "\n"); !s.ok()) {
      return ReportInputError(std::string(s.message()));
    }
  }
  if (!o.svg.empty()) {
    if (auto s = WriteFileDurably(o.svg, RenderQuantizeReportSvg(result.report())); !s.ok()) {
      return ReportInputError(std::string(s.message()));
    }
  }
  if (o.json) {
    std::cout << ToJsonLine(result) << "\n";
    return 0;
  }
  PrintReport(result.report());
  if (!o.report.empty()) std::cout << "report: " << o.report << "\n";
  if (!o.svg.empty()) std::cout << "picture: " << o.svg << "\n";
  return 0;
}

}  // namespace

void AddQuantizeCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* cmd = app.add_subcommand("quantize", "post-training quantization of a CNN model, with a calibration report");
  AddConnectionFlags(cmd, &o->connection, "seconds the upload and the quantization job may take, past which the job is cancelled (0: no deadline)");
  cmd->add_option("--name", o->name, "the float model to quantize")->required();
  cmd->add_option("--version", o->version, "its version (default: the latest)");
  cmd->add_option("--target", o->target, "model name to publish under (default: a new version of --name)");
  cmd->add_option("--weight-bits", o->weight_bits, "weight bits, 2..8; several (8,6,4) make a sweep")->delimiter(',')->capture_default_str();
  cmd->add_option("--activation-bits", o->activation_bits, "activation bits, 2..8, or float")->capture_default_str();
  cmd->add_flag("--per-tensor", o->per_tensor, "one weight scale per tensor instead of per output channel");
  cmd->add_option("--calibration", o->calibration_method, "activation ranges: minmax, percentile or mse")->capture_default_str();
  cmd->add_option("--percentile", o->percentile, "percentile of |x| for --calibration percentile")->capture_default_str();
  cmd->add_option("--first-last-bits", o->first_last_bits, "bits of the first and last layers (negative: same as the rest)")->capture_default_str();
  cmd->add_flag("--no-temperature", o->no_temperature, "do not fit a temperature after quantization");
  cmd->add_option("--csv", o->csv, "calibration examples (CSV with a header)");
  cmd->add_option("--text-column", o->text_columns, "text column; repeat to join several");
  cmd->add_option("--label-column", o->label_column, "label column");
  cmd->add_option("--eval-csv", o->eval_csv, "evaluation examples for the report, same columns");
  cmd->add_option("--idx-images", o->idx_images, "calibration images (IDX), instead of --csv");
  cmd->add_option("--idx-labels", o->idx_labels, "labels of --idx-images (IDX)");
  cmd->add_option("--idx-offset", o->idx_offset, "skip this many images of --idx-images (e.g. those trained on)");
  cmd->add_option("--eval-idx-images", o->eval_idx_images, "evaluation images (IDX)");
  cmd->add_option("--eval-idx-labels", o->eval_idx_labels, "labels of --eval-idx-images (IDX)");
  cmd->add_option("--limit", o->limit, "calibration examples at most (a seeded sample of a CSV)");
  cmd->add_option("--eval-limit", o->eval_limit, "evaluation examples at most");
  cmd->add_option("--class-names", o->class_names, "class names of IDX label indices, in order");
  cmd->add_option("--eval-dataset", o->eval_dataset, "name of the evaluation data in the report")->capture_default_str();
  cmd->add_option("--report", o->report, "write the report as JSON here (empty: not)")->capture_default_str();
  cmd->add_option("--svg", o->svg, "draw the report as SVG here (empty: not)")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "examples per message")->capture_default_str();
  cmd->add_flag("--no-load", o->skip_load, "publish without loading for serving");
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->add_flag("--quiet", o->quiet, "no progress output");
  cmd->callback([o, exit_code] { *exit_code = RunQuantize(*o); });
}

}  // namespace textclf::client
