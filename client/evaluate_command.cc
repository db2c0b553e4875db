// textclf evaluate: streams a labelled CSV through Evaluate and prints the metrics.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "client/cli_common.h"
#include "client/commands.h"
#include "client/progress_bar.h"
#include "client/table.h"
#include "core/data/labeled_csv.h"

namespace textclf::client {
namespace {

struct EvaluateOptions {
  // No deadline by default: the whole CSV streams through one call, for as long as it takes.
  ConnectionOptions connection{/*default_timeout_s=*/0};
  std::string model;
  int64_t version = 0;
  std::string csv;
  std::vector<std::string> text_columns;
  std::string label_column;
  std::string dataset = "eval";
  int batch_size = 512;
  bool json = false;
  bool quiet = false;
};

void PrintMetrics(const v1::EvaluateResponse& response) {
  const v1::EvalMetrics& m = response.metrics();
  std::cout << response.model() << " version " << response.version() << " on " << m.examples() << " examples ("
            << Fixed(m.examples_per_s(), 0) << " examples/s)\n";
  std::cout << "accuracy  " << Fixed(m.accuracy(), 4) << "\nmacro-F1  " << Fixed(m.macro_f1(), 4) << "\n";
  if (m.has_auc()) std::cout << "ROC AUC   " << Fixed(m.auc(), 4) << "\n";
  std::cout << "ECE       " << Fixed(m.ece(), 4) << "\n\n";
  Table table({"class", "precision", "recall", "f1", "support"});
  for (const auto& c : m.per_class()) {
    table.AddRow({c.label(), Fixed(c.precision(), 4), Fixed(c.recall(), 4), Fixed(c.f1(), 4), std::to_string(c.support())});
  }
  table.Print(std::cout);
}

int RunEvaluate(const EvaluateOptions& o) {
  auto data = data::ReadLabeledCsv(o.csv, o.text_columns, o.label_column);
  if (!data.ok()) return ReportInputError(std::string(data.status().message()));
  std::optional<Connection> connection = Connect(o.connection);
  if (!connection) return kExitInputError;
  Connection& c = *connection;
  grpc::ClientContext context;
  c.SetDeadline(&context);
  v1::EvaluateResponse response;
  auto writer = c.stub->Evaluate(&context, &response);
  v1::EvaluateRequest request;
  request.mutable_start()->set_model(o.model);
  request.mutable_start()->set_version(o.version);
  request.mutable_start()->set_dataset(o.dataset);
  ProgressBar bar(!o.quiet);
  bool open = writer->Write(request);
  request.Clear();
  for (size_t i = 0; open && i < data->texts.size(); ++i) {
    v1::Example* e = request.mutable_batch()->add_examples();
    e->set_text(data->texts[i]);
    e->set_label(data->labels[i]);
    if (request.batch().examples_size() == o.batch_size || i + 1 == data->texts.size()) {
      open = writer->Write(request);
      request.Clear();
      bar.Update("evaluate", static_cast<double>(i + 1) / data->texts.size(), std::to_string(i + 1) + " examples");
    }
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  bar.Finish();
  if (!status.ok()) return c.ReportError(status);
  if (o.json) {
    std::cout << ToJsonLine(response.metrics()) << "\n";
  } else {
    PrintMetrics(response);
  }
  return 0;
}

}  // namespace

void AddEvaluateCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<EvaluateOptions>();
  CLI::App* cmd = app.add_subcommand("evaluate", "evaluate a model on a labelled CSV");
  AddConnectionFlags(cmd, &o->connection, "seconds the whole evaluation may take (0: no deadline)");
  cmd->add_option("--model", o->model, "model name")->required();
  cmd->add_option("--version", o->version, "model version (default: latest loaded)");
  cmd->add_option("--csv", o->csv, "labelled data (CSV with a header)")->required();
  cmd->add_option("--text-column", o->text_columns, "text column; repeat to join several")->required();
  cmd->add_option("--label-column", o->label_column, "label column")->required();
  cmd->add_option("--dataset", o->dataset, "name the metrics are recorded under")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "examples per message")->capture_default_str();
  cmd->add_flag("--json", o->json, "print the metrics as JSON");
  cmd->add_flag("--quiet", o->quiet, "no progress output");
  cmd->callback([o, exit_code] { *exit_code = RunEvaluate(*o); });
}

}  // namespace textclf::client
