// textclf feedback: tells the server the true label of a prediction, which feeds the model
// version's online accuracy. The prediction is named by the request id and index that
// `classify --json` prints, or by the text itself, which the server classifies again.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "client/cli_common.h"
#include "client/commands.h"
#include "client/table.h"

namespace textclf::client {
namespace {

struct FeedbackOptions {
  ConnectionOptions connection;
  std::string model;
  int64_t version = 0;
  std::string text;
  std::string request_id;
  int index = 0;
  std::string label;
  bool json = false;
};

// The request, or a usage error: the prediction is named one way or the other, never both.
absl::StatusOr<v1::FeedbackRequest> MakeRequest(const FeedbackOptions& o, bool index_given, bool version_given) {
  v1::FeedbackRequest request;
  if (o.label.empty()) return absl::InvalidArgumentError("--label: give the true label");
  request.set_true_label(o.label);
  if (!o.request_id.empty()) {
    if (!o.text.empty() || !o.model.empty() || version_given) {
      return absl::InvalidArgumentError(
          "name the prediction by --request-id and --index, or by --model and --text, not both (a request id "
          "knows its model and version)");
    }
    if (o.index < 0) return absl::InvalidArgumentError("--index must not be negative");
    request.set_request_id(o.request_id);
    request.set_index(o.index);
    return request;
  }
  if (index_given) return absl::InvalidArgumentError("--index goes with --request-id");
  if (o.model.empty() || o.text.empty()) {
    return absl::InvalidArgumentError(
        "name the prediction: --request-id ID --index I (from classify --json), or --model NAME --text TEXT");
  }
  request.set_model(o.model);
  request.set_version(o.version);
  request.set_text(o.text);
  return request;
}

int RunFeedback(const FeedbackOptions& o, bool index_given, bool version_given) {
  absl::StatusOr<v1::FeedbackRequest> request = MakeRequest(o, index_given, version_given);
  if (!request.ok()) return ReportInputError(std::string(request.status().message()));
  std::optional<Connection> c = Connect(o.connection);
  if (!c) return kExitInputError;
  grpc::ClientContext context;
  c->SetDeadline(&context);
  v1::FeedbackResponse response;
  grpc::Status status = c->stub->Feedback(&context, *request, &response);
  if (!status.ok()) return c->ReportError(status);
  if (o.json) {
    std::cout << ToJsonLine(response) << "\n";
    return 0;
  }
  std::cout << response.model() << " version " << response.version() << " predicted " << response.predicted_label()
            << ": " << (response.correct() ? "correct" : "wrong") << "\nonline accuracy "
            << Fixed(response.online_accuracy(), 4) << " (over the version's recent feedback)\n";
  return 0;
}

}  // namespace

void AddFeedbackCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<FeedbackOptions>();
  CLI::App* cmd = app.add_subcommand(
      "feedback", "tell the server the true label of a prediction; prints whether it was right and the online accuracy");
  AddConnectionFlags(cmd, &o->connection, "seconds the call may take (0: no deadline)");
  cmd->add_option("--label", o->label, "the true label")->required();
  cmd->add_option("--request-id", o->request_id, "the prediction's request id (classify --json prints it)");
  CLI::Option* index = cmd->add_option("--index", o->index, "the text's index in that request")->capture_default_str();
  cmd->add_option("--model", o->model, "or: the model that classifies --text again");
  CLI::Option* version = cmd->add_option("--version", o->version, "its version (default: the latest loaded)");
  cmd->add_option("--text", o->text, "the text whose label this is");
  cmd->add_flag("--json", o->json, "print the response as JSON");
  cmd->callback([o, exit_code, index, version] { *exit_code = RunFeedback(*o, index->count() > 0, version->count() > 0); });
}

}  // namespace textclf::client
