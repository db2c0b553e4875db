// textclf-server: serves, trains and evaluates classifiers over gRPC.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_join.h"
#include "server/server.h"
#include "server/server_config.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"textclf-server: trains, stores and serves text classifiers over gRPC"};
  std::string config_file, models_dir, host;
  int port = -1, threads = -1, metrics_port = -2;
  app.add_option("--config", config_file, "JSON server configuration (textclf.v1.ServerConfig)");
  app.add_option("--models", models_dir, "model repository folder (created if missing)");
  app.add_option("--port", port, "gRPC port (default 50051; 0 picks a free one)");
  app.add_option("--host", host, "address to listen on (default 0.0.0.0)");
  app.add_option("--threads", threads, "CPU threads for model work (default: all cores)");
  app.add_option("--metrics-port", metrics_port, "Prometheus /metrics port (default 9464; 0 picks one, -1 disables)");
  CLI11_PARSE(app, argc, argv);

  textclf::v1::ServerConfig config;
  if (!config_file.empty()) {
    auto loaded = textclf::server::LoadServerConfig(config_file);
    if (!loaded.ok()) {
      std::cerr << "textclf-server: " << loaded.status().message() << "\n";
      return 2;
    }
    config = *loaded;
  }
  if (!models_dir.empty()) config.set_models_dir(models_dir);
  if (port >= 0) config.set_port(port);
  if (!host.empty()) config.set_host(host);
  if (threads >= 0) config.set_threads(threads);
  if (metrics_port >= -1) config.set_metrics_port(metrics_port);

  auto server = textclf::server::Server::Start(config);
  if (!server.ok()) {
    std::cerr << "textclf-server: " << server.status().message() << "\n";
    return 1;
  }
  for (const auto& failure : (*server)->load_failures()) {
    std::cerr << "textclf-server: model not loaded: " << failure << "\n";
  }
  std::cerr << "textclf-server: serving " << (*server)->config().models_dir() << " on port "
            << (*server)->port();
  if ((*server)->metrics_port() > 0) std::cerr << ", metrics on port " << (*server)->metrics_port();
  std::cerr << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cerr << "textclf-server: shutting down" << std::endl;
  (*server)->Shutdown(5.0);
  (*server)->Wait();
  return 0;
}
