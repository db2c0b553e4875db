// textclf-server: serves, trains and evaluates classifiers over gRPC.
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "server/server.h"
#include "server/server_config.h"

namespace {

// SIGTERM and SIGINT are blocked in every thread (the mask is inherited by the threads the
// server starts) and taken by sigwait on the main thread: shutdown begins the moment one
// arrives, on a thread where any call is allowed, unlike in a signal handler.
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"textclf-server: trains, stores and serves text classifiers over gRPC"};
  std::string config_file, models_dir, host;
  int port = -1, threads = -1, metrics_port = -2;
  textclf::server::ServeOptions options;
  double drain_timeout_s = 20;
  app.add_option("--config", config_file, "JSON server configuration (textclf.v1.ServerConfig)");
  app.add_option("--models", models_dir, "model repository folder (created if missing)");
  app.add_option("--port", port, "gRPC port (default 50051; 0 picks a free one)");
  app.add_option("--host", host, "address to listen on (default 0.0.0.0)");
  app.add_option("--threads", threads, "CPU threads for model work (default: all cores)");
  app.add_option("--metrics-port", metrics_port, "Prometheus /metrics port (default 9464; 0 picks one, -1 disables)");
  app.add_option("--poll-interval", options.poll_interval_s,
                 "rescan the model repository every SECONDS, loading new versions and unloading removed ones "
                 "(0: only at start); for a repository shared with other replicas and training jobs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--drain-timeout", drain_timeout_s,
                 "on SIGTERM, SECONDS in-flight calls get to finish before they are cancelled")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-connection-age", options.max_connection_age_s,
                 "close client connections after about SECONDS so clients rebalance over replicas (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-connection-age-grace", options.max_connection_age_grace_s,
                 "SECONDS calls on an aged connection get before it is cut (0: as long as they need)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors exit 2, as the textclf CLI's do
  }

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

  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = textclf::server::Server::Start(config, options);
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
  if (options.poll_interval_s > 0) std::cerr << ", polling every " << options.poll_interval_s << " s";
  std::cerr << std::endl;

  int signal = 0;
  while (sigwait(&stop_signals, &signal) != 0) {
  }
  std::cerr << "textclf-server: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": not serving; draining calls in flight (up to " << drain_timeout_s << " s)" << std::endl;
  const auto started = std::chrono::steady_clock::now();
  const bool drained = (*server)->Drain(drain_timeout_s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (drained) {
    std::cerr << "textclf-server: drained in " << took << " s: every call in flight finished" << std::endl;
  } else {
    std::cerr << "textclf-server: drain timeout after " << took << " s: calls still running were cancelled"
              << std::endl;
  }
  // A call is torn down once its status is handed to the transport; give the transport a moment
  // to put the last bytes on the wire and read what clients sent, or closing could reset them.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  std::cerr << "textclf-server: stopped" << std::endl;
  // No grpc::Server::Shutdown: it would kill, with CANCELLED, the calls clients send before its
  // GOAWAY reaches them, and clients cannot safely retry CANCELLED. Exiting closes every
  // connection instead, and calls sent on them fail UNAVAILABLE, which clients retry on another
  // replica. Nothing is lost: every call has finished (or met the drain timeout), publishing is
  // durable when it returns, and the rest is in memory only.
  std::_Exit(0);
}
