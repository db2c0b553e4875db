// textclf-server: serves, trains and evaluates classifiers over gRPC.
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "core/torch/openblas_kernel.h"
#include "server/logging/log.h"
#include "server/server.h"
#include "server/server_config.h"
#include "textclf/version.h"

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

// What the command line says; unset values (empty, negative) leave the config file's.
struct CommandLine {
  std::string config_file, models_dir, host, metrics_host, tls_cert, tls_key, tls_client_ca, auth_tokens, import_dir;
  std::string log_format = "text", log_level = "info";
  bool read_only = false, strict_readiness = false;
  double log_calls = -1;
  int port = -1, threads = -1, metrics_port = -2, http_port = -2;
  textclf::server::ServeOptions options;
  double drain_timeout_s = 20;
};

void AddOptions(CLI::App& app, CommandLine& c) {
  app.add_option("--config", c.config_file, "JSON server configuration (textclf.v1.ServerConfig)");
  app.add_option("--models", c.models_dir, "model repository folder (created if missing)");
  app.add_option("--port", c.port, "gRPC port (default 50051; 0 picks a free one)");
  app.add_option("--host", c.host, "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)");
  app.add_option("--threads", c.threads, "CPU threads for model work (default: all cores)");
  app.add_option("--http-port", c.http_port,
                 "HTTP/REST port: the Open Inference Protocol's /v2 routes and /v1/models/NAME:classify "
                 "(default off; 0 picks one)");
  app.add_option("--metrics-port", c.metrics_port, "Prometheus /metrics port (default 9464; 0 picks one, -1 disables)");
  app.add_option("--metrics-host", c.metrics_host, "address /metrics listens on (default 127.0.0.1)");
  app.add_option("--tls-cert", c.tls_cert, "TLS certificate chain (PEM) of the gRPC port; re-read when it changes");
  app.add_option("--tls-key", c.tls_key, "its private key (PEM)");
  app.add_option("--tls-client-ca", c.tls_client_ca, "require client certificates signed by this CA (PEM): mutual TLS");
  app.add_option("--auth-tokens", c.auth_tokens,
                 "file of `ROLE TOKEN` lines (ROLE client or admin; TOKEN, sha256:HEX or cert:CN): every call then "
                 "needs an identity, and changing models the admin role; re-read when it changes");
  app.add_flag("--read-only", c.read_only, "refuse Train, Quantize and DeleteModel (serving replicas of a shared volume)");
  app.add_option("--import-dir", c.import_dir,
                 "the folder under which training configs may name server files (encoder_path, init_checkpoint, "
                 "vocab_file); without it, configs may name none");
  app.add_flag("--strict-readiness", c.strict_readiness,
               "report NOT_SERVING (health \"\" and textclf.v1.Classifier) while any model has no loaded "
               "version: for readiness probes");
  app.add_option("--log-calls", c.log_calls, "the fraction of calls (0..1) logged one line each (default 0)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--log-format", c.log_format, "json (one object a line) or text")->capture_default_str();
  app.add_option("--log-level", c.log_level, "debug, info, warning or error")->capture_default_str();
  app.set_version_flag("--version", std::string("textclf-server ") + TEXTCLF_VERSION);
  app.add_option("--poll-interval", c.options.poll_interval_s,
                 "rescan the model repository every SECONDS, loading new versions and unloading removed ones "
                 "(0: only at start); for a repository shared with other replicas and training jobs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--drain-timeout", c.drain_timeout_s,
                 "on SIGTERM, SECONDS in-flight calls get to finish before they are cancelled")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-connection-age", c.options.max_connection_age_s,
                 "close client connections after about SECONDS so clients rebalance over replicas (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-connection-age-grace", c.options.max_connection_age_grace_s,
                 "SECONDS calls on an aged connection get before it is cut (0: as long as they need)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

void ApplyCommandLine(const CommandLine& c, textclf::v1::ServerConfig& config) {
  if (!c.models_dir.empty()) config.set_models_dir(c.models_dir);
  if (c.port >= 0) config.set_port(c.port);
  if (!c.host.empty()) config.set_host(c.host);
  if (c.threads >= 0) config.set_threads(c.threads);
  if (c.metrics_port >= -1) config.set_metrics_port(c.metrics_port);
  if (c.http_port >= -1) config.set_http_port(c.http_port);
  if (!c.metrics_host.empty()) config.set_metrics_host(c.metrics_host);
  if (!c.tls_cert.empty()) config.mutable_tls()->set_cert_file(c.tls_cert);
  if (!c.tls_key.empty()) config.mutable_tls()->set_key_file(c.tls_key);
  if (!c.tls_client_ca.empty()) config.mutable_tls()->set_client_ca_file(c.tls_client_ca);
  if (!c.auth_tokens.empty()) config.set_auth_tokens_file(c.auth_tokens);
  if (c.read_only) config.set_read_only(true);
  if (!c.import_dir.empty()) config.set_import_dir(c.import_dir);
  if (c.strict_readiness) config.set_strict_readiness(true);
  if (c.log_calls >= 0) config.set_log_call_fraction(c.log_calls);
}

void LogServing(const textclf::server::Server& server, const CommandLine& c) {
  namespace logging = textclf::server::logging;
  const textclf::v1::ServerConfig& resolved = server.config();
  std::string serving = absl::StrCat("serving ", resolved.models_dir(), " on port ", server.port());
  if (server.http_port() > 0) absl::StrAppend(&serving, ", HTTP on port ", server.http_port());
  if (server.metrics_port() > 0) absl::StrAppend(&serving, ", metrics on port ", server.metrics_port());
  if (c.options.poll_interval_s > 0) absl::StrAppend(&serving, ", polling every ", c.options.poll_interval_s, " s");
  logging::Info("serving", {{"message", serving},
                            {"version", TEXTCLF_VERSION},
                            {"models_dir", resolved.models_dir()},
                            {"host", resolved.host()},
                            {"port", server.port()},
                            {"metrics_port", server.metrics_port()},
                            {"http_port", server.http_port()},
                            {"tls", !resolved.tls().cert_file().empty()},
                            {"mutual_tls", !resolved.tls().client_ca_file().empty()},
                            {"auth", !resolved.auth_tokens_file().empty()},
                            {"read_only", resolved.read_only()},
                            {"openblas_core", textclf::torch_support::LoadedOpenBlasCore()}});
}

// Waits for SIGTERM or SIGINT, then lets the calls in flight finish (up to the drain timeout).
void WaitAndDrain(textclf::server::Server& server, const sigset_t& stop_signals, const CommandLine& c) {
  namespace logging = textclf::server::logging;
  int signal = 0;
  while (sigwait(&stop_signals, &signal) != 0) {
  }
  logging::Info("draining", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}, {"timeout_s", c.drain_timeout_s}});
  const auto started = std::chrono::steady_clock::now();
  const bool drained = server.Drain(c.drain_timeout_s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (drained) {
    logging::Info("drained", {{"duration_s", took}, {"message", "every call in flight finished"}});
  } else {
    logging::Warning("drain_timeout", {{"duration_s", took}, {"message", "calls still running were cancelled"}});
  }
  // A call is torn down once its status is handed to the transport; give the transport a moment
  // to put the last bytes on the wire and read what clients sent, or closing could reset them.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  logging::Info("stopped");
}

}  // namespace

int main(int argc, char** argv) {
  textclf::torch_support::UseFastestOpenBlasKernel(argv);
  CLI::App app{"textclf-server: trains, stores and serves text classifiers over gRPC"};
  CommandLine c;
  AddOptions(app, c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors exit 2, as the textclf CLI's do
  }
  namespace logging = textclf::server::logging;
  if (absl::Status s = logging::Configure(c.log_format, c.log_level); !s.ok()) {
    std::cerr << "textclf-server: " << s.message() << "\n";
    return 2;
  }

  textclf::v1::ServerConfig config;
  if (!c.config_file.empty()) {
    auto loaded = textclf::server::LoadServerConfig(c.config_file);
    if (!loaded.ok()) {
      logging::Error("bad_config", {{"message", std::string(loaded.status().message())}});
      return 2;
    }
    config = *loaded;
  }
  ApplyCommandLine(c, config);

  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = textclf::server::Server::Start(config, c.options);
  if (!server.ok()) {
    logging::Error("start_failed", {{"message", std::string(server.status().message())}});
    return 1;
  }
  LogServing(**server, c);
  WaitAndDrain(**server, stop_signals, c);
  // No grpc::Server::Shutdown: it would kill, with CANCELLED, the calls clients send before its
  // GOAWAY reaches them, and clients cannot safely retry CANCELLED. Exiting closes every
  // connection instead, and calls sent on them fail UNAVAILABLE, which clients retry on another
  // replica. Nothing is lost: every call has finished (or met the drain timeout), publishing is
  // durable when it returns, and the rest is in memory only.
  std::_Exit(0);
}
