// The textclf sub-commands. Each Add*Command registers its options on the app and, when chosen,
// stores its exit status in *exit_code.
#pragma once

namespace CLI {
class App;
}

namespace textclf::client {

void AddTrainCommand(CLI::App& app, int* exit_code);
void AddClassifyCommand(CLI::App& app, int* exit_code);
void AddEvaluateCommand(CLI::App& app, int* exit_code);
void AddModelsCommand(CLI::App& app, int* exit_code);
void AddHealthCommand(CLI::App& app, int* exit_code);
void AddQuantizeCommand(CLI::App& app, int* exit_code);
void AddStatsCommand(CLI::App& app, int* exit_code);
void AddFeedbackCommand(CLI::App& app, int* exit_code);

}  // namespace textclf::client
