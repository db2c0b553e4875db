// textclf classify: texts from the command line or stdin lines, predictions as a table or JSON.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli_common.h"
#include "client/commands.h"
#include "client/table.h"

namespace textclf::client {
namespace {

struct ClassifyOptions {
  ConnectionOptions connection;
  std::string model;
  int64_t version = 0;
  int top_k = 1;
  bool all_scores = false;
  bool json = false;
  int batch_size = 64;
  std::vector<std::string> texts;
};

std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return text.substr(0, cut) + "...";
}

// Sends one batch; prints its predictions. Returns an exit code.
int ClassifyBatch(const ClassifyOptions& o, Connection& c, const std::vector<std::string>& texts, Table* table) {
  v1::ClassifyRequest request;
  request.set_model(o.model);
  request.set_version(o.version);
  request.set_top_k(o.top_k);
  request.set_all_scores(o.all_scores);
  for (const auto& t : texts) request.add_texts(t);
  v1::ClassifyResponse response;
  grpc::ClientContext context;
  c.SetDeadline(&context);
  grpc::Status status = c.stub->Classify(&context, request, &response);
  if (!status.ok()) return c.ReportError(status);
  for (int i = 0; i < response.predictions_size(); ++i) {
    const v1::Prediction& p = response.predictions(i);
    if (o.json) {
      nlohmann::json line = nlohmann::json::parse(ToJsonLine(p));
      line["text"] = texts[i];
      line["model"] = response.model();
      line["version"] = response.version();
      // What `textclf feedback --request-id ID --index I` names this prediction by.
      line["request_id"] = response.request_id();
      line["index"] = i;
      std::cout << line.dump() << "\n";
      continue;
    }
    std::string others;
    for (int k = 1; k < p.top_size(); ++k) others += p.top(k).label() + " " + Fixed(p.top(k).probability(), 3) + "  ";
    table->AddRow({Shorten(texts[i], 60), p.label(), Fixed(p.confidence(), 3), Fixed(p.score(), 4), others});
  }
  return 0;
}

int RunClassify(const ClassifyOptions& o) {
  std::optional<Connection> connection = Connect(o.connection);
  if (!connection) return kExitInputError;
  Connection& c = *connection;
  Table table({"text", "label", "confidence", "score", o.top_k > 1 ? "next" : ""});
  std::vector<std::string> batch;
  auto flush = [&]() {
    if (batch.empty()) return 0;
    int rc = ClassifyBatch(o, c, batch, &table);
    batch.clear();
    return rc;
  };
  if (!o.texts.empty()) {
    for (const auto& t : o.texts) {
      batch.push_back(t);
      if (static_cast<int>(batch.size()) == o.batch_size) {
        if (int rc = flush(); rc != 0) return rc;
      }
    }
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      batch.push_back(line);
      if (static_cast<int>(batch.size()) == o.batch_size) {
        if (int rc = flush(); rc != 0) return rc;
      }
    }
  }
  if (int rc = flush(); rc != 0) return rc;
  if (!o.json) table.Print(std::cout);
  return 0;
}

}  // namespace

void AddClassifyCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ClassifyOptions>();
  CLI::App* cmd = app.add_subcommand("classify", "classify texts given as arguments, or one per line on stdin");
  AddConnectionFlags(cmd, &o->connection, "seconds each request (of --batch-size texts) may take (0: no deadline)");
  cmd->add_option("--model", o->model, "model name")->required();
  cmd->add_option("--version", o->version, "model version (default: latest loaded)");
  cmd->add_option("--top-k", o->top_k, "classes listed per text")->capture_default_str();
  cmd->add_flag("--all-scores", o->all_scores, "include every class's score (JSON output)");
  cmd->add_flag("--json", o->json, "one JSON object per text");
  cmd->add_option("--batch-size", o->batch_size, "texts per request")->capture_default_str();
  cmd->add_option("texts", o->texts, "texts to classify (default: stdin lines)");
  cmd->callback([o, exit_code] { *exit_code = RunClassify(*o); });
}

}  // namespace textclf::client
