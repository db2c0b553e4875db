// textclf models {list,get,load,unload,delete}: the model registry from the command line.
#include <functional>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_join.h"
#include "client/cli_common.h"
#include "client/commands.h"
#include "client/table.h"
#include "core/model/family_names.h"
#include "google/protobuf/util/time_util.h"

namespace textclf::client {
namespace {

struct ModelsOptions {
  ConnectionOptions connection;
  std::string name;
  int64_t version = 0;
  bool json = false;
};

std::string StateName(v1::ModelState state) {
  switch (state) {
    case v1::AVAILABLE: return "available";
    case v1::LOADING: return "loading";
    case v1::LOADED: return "loaded";
    case v1::FAILED: return "failed";
    default: return "unknown";
  }
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

void PrintModel(const v1::ModelInfo& info) {
  std::cout << info.name() << " (" << FamilyName(info.family()) << "), classes:";
  for (const auto& c : info.classes()) std::cout << " " << c;
  std::cout << "\n";
  Table table({"version", "state", "size", "created", "metrics"});
  for (const auto& v : info.versions()) {
    std::string metrics;
    for (const auto& [dataset, m] : v.metrics()) {
      metrics += dataset + ": acc " + Fixed(m.accuracy(), 4) + (m.has_auc() ? " auc " + Fixed(m.auc(), 4) : "") + "  ";
    }
    std::string state = StateName(v.state());
    if (!v.state_message().empty()) state += " (" + v.state_message() + ")";
    table.AddRow({std::to_string(v.version()), state, HumanBytes(v.size_bytes()),
                  google::protobuf::util::TimeUtil::ToString(v.created_at()).substr(0, 19), metrics});
  }
  table.Print(std::cout);
}

// Connects, runs `call` with the deadline of --timeout, and prints its response as JSON or with
// `print`; returns the exit code.
template <typename Response>
int RunCall(const ModelsOptions& o,
            const std::function<grpc::Status(v1::Classifier::Stub&, grpc::ClientContext*, Response*)>& call,
            const std::function<void(const Response&)>& print) {
  std::optional<Connection> c = Connect(o.connection);
  if (!c) return kExitInputError;
  grpc::ClientContext context;
  c->SetDeadline(&context);
  Response response;
  grpc::Status status = call(*c->stub, &context, &response);
  if (!status.ok()) return c->ReportError(status);
  if (o.json) {
    std::cout << ToJsonLine(response) << "\n";
  } else {
    print(response);
  }
  return 0;
}

void PrintModelList(const v1::ListModelsResponse& response) {
  Table table({"name", "family", "classes", "versions", "loaded"});
  for (const auto& m : response.models()) {
    std::vector<int64_t> versions, loaded;
    for (const auto& v : m.versions()) {
      versions.push_back(v.version());
      if (v.state() == v1::LOADED) loaded.push_back(v.version());
    }
    table.AddRow({m.name(), std::string(FamilyName(m.family())), std::to_string(m.classes_size()),
                  absl::StrJoin(versions, ","), loaded.empty() ? "-" : absl::StrJoin(loaded, ",")});
  }
  table.Print(std::cout);
}

}  // namespace

void AddModelsCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ModelsOptions>();
  CLI::App* models = app.add_subcommand("models", "list, inspect, load, unload and delete models");
  models->require_subcommand(1);
  auto common = [o](CLI::App* cmd, bool named, bool versioned) {
    AddConnectionFlags(cmd, &o->connection, "seconds the call may take (0: no deadline)");
    cmd->add_flag("--json", o->json, "print the response as JSON");
    if (named) cmd->add_option("name", o->name, "model name")->required();
    if (versioned) cmd->add_option("--version", o->version, "version (default: see the command)");
  };

  CLI::App* list = models->add_subcommand("list", "every model in the repository");
  common(list, false, false);
  list->callback([o, exit_code] {
    *exit_code = RunCall<v1::ListModelsResponse>(
        *o,
        [](v1::Classifier::Stub& stub, grpc::ClientContext* context, v1::ListModelsResponse* response) {
          return stub.ListModels(context, v1::ListModelsRequest(), response);
        },
        PrintModelList);
  });

  CLI::App* get = models->add_subcommand("get", "a model's versions, states, sizes and metrics");
  common(get, true, false);
  get->callback([o, exit_code] {
    v1::GetModelRequest request;
    request.set_name(o->name);
    *exit_code = RunCall<v1::ModelInfo>(
        *o,
        [&](v1::Classifier::Stub& stub, grpc::ClientContext* context, v1::ModelInfo* response) {
          return stub.GetModel(context, request, response);
        },
        PrintModel);
  });

  CLI::App* load = models->add_subcommand("load", "load a version for serving (default: the latest)");
  common(load, true, true);
  load->callback([o, exit_code] {
    v1::LoadModelRequest request;
    request.set_name(o->name);
    request.set_version(o->version);
    *exit_code = RunCall<v1::ModelInfo>(
        *o,
        [&](v1::Classifier::Stub& stub, grpc::ClientContext* context, v1::ModelInfo* response) {
          return stub.LoadModel(context, request, response);
        },
        PrintModel);
  });

  CLI::App* unload = models->add_subcommand("unload", "stop serving a version (default: all)");
  common(unload, true, true);
  unload->callback([o, exit_code] {
    v1::UnloadModelRequest request;
    request.set_name(o->name);
    request.set_version(o->version);
    *exit_code = RunCall<v1::ModelInfo>(
        *o,
        [&](v1::Classifier::Stub& stub, grpc::ClientContext* context, v1::ModelInfo* response) {
          return stub.UnloadModel(context, request, response);
        },
        PrintModel);
  });

  CLI::App* del = models->add_subcommand("delete", "delete a version from disk (default: every version)");
  common(del, true, true);
  del->callback([o, exit_code] {
    v1::DeleteModelRequest request;
    request.set_name(o->name);
    request.set_version(o->version);
    *exit_code = RunCall<v1::DeleteModelResponse>(
        *o,
        [&](v1::Classifier::Stub& stub, grpc::ClientContext* context, v1::DeleteModelResponse* response) {
          return stub.DeleteModel(context, request, response);
        },
        [&](const v1::DeleteModelResponse& response) {
          std::cout << "deleted " << o->name << " versions";
          for (int64_t v : response.deleted_versions()) std::cout << " " << v;
          std::cout << "\n";
        });
  });
}

}  // namespace textclf::client
