// textclf: the command-line client of textclf-server.
#include <CLI/CLI.hpp>

#include "client/commands.h"
#include "textclf/version.h"

int main(int argc, char** argv) {
  CLI::App app{"textclf: train, query and manage text classifiers on a textclf-server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("textclf ") + TEXTCLF_VERSION);
  int exit_code = 0;
  textclf::client::AddTrainCommand(app, &exit_code);
  textclf::client::AddClassifyCommand(app, &exit_code);
  textclf::client::AddEvaluateCommand(app, &exit_code);
  textclf::client::AddFeedbackCommand(app, &exit_code);
  textclf::client::AddModelsCommand(app, &exit_code);
  textclf::client::AddStatsCommand(app, &exit_code);
  textclf::client::AddHealthCommand(app, &exit_code);
  textclf::client::AddQuantizeCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
