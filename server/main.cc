// textclf-server: serves, trains and evaluates classifiers over gRPC.
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"textclf-server: trains, stores and serves text classifiers over gRPC"};
  std::string config_file, models_dir, host, metrics_host, tls_cert, tls_key, tls_client_ca, auth_tokens, import_dir;
  std::string log_format = "text", log_level = "info";
  bool read_only = false, strict_readiness = false;
  double log_calls = -1;
  int port = -1, threads = -1, metrics_port = -2;
  textclf::server::ServeOptions options;
  double drain_timeout_s = 20;
  app.add_option("--config", config_file, "JSON server configuration (textclf.v1.ServerConfig)");
  app.add_option("--models", models_dir, "model repository folder (created if missing)");
  app.add_option("--port", port, "gRPC port (default 50051; 0 picks a free one)");
  app.add_option("--host", host, "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)");
  app.add_option("--threads", threads, "CPU threads for model work (default: all cores)");
  app.add_option("--metrics-port", metrics_port, "Prometheus /metrics port (default 9464; 0 picks one, -1 disables)");
  app.add_option("--metrics-host", metrics_host, "address /metrics listens on (default 127.0.0.1)");
  app.add_option("--tls-cert", tls_cert, "TLS certificate chain (PEM) of the gRPC port; re-read when it changes");
  app.add_option("--tls-key", tls_key, "its private key (PEM)");
  app.add_option("--tls-client-ca", tls_client_ca, "require client certificates signed by this CA (PEM): mutual TLS");
  app.add_option("--auth-tokens", auth_tokens,
                 "file of `ROLE TOKEN` lines (ROLE client or admin; TOKEN, sha256:HEX or cert:CN): every call then "
                 "needs an identity, and changing models the admin role; re-read when it changes");
  app.add_flag("--read-only", read_only, "refuse Train, Quantize and DeleteModel (serving replicas of a shared volume)");
  app.add_option("--import-dir", import_dir,
                 "the folder under which training configs may name server files (encoder_path, init_checkpoint, "
                 "vocab_file); without it, configs may name none");
  app.add_flag("--strict-readiness", strict_readiness,
               "report NOT_SERVING (health \"\" and textclf.v1.Classifier) while any model has no loaded "
               "version: for readiness probes");
  app.add_option("--log-calls", log_calls, "the fraction of calls (0..1) logged one line each (default 0)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--log-format", log_format, "json (one object a line) or text")->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warning or error")->capture_default_str();
  app.set_version_flag("--version", std::string("textclf-server ") + TEXTCLF_VERSION);
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
  namespace logging = textclf::server::logging;
  if (absl::Status s = logging::Configure(log_format, log_level); !s.ok()) {
    std::cerr << "textclf-server: " << s.message() << "\n";
    return 2;
  }

  textclf::v1::ServerConfig config;
  if (!config_file.empty()) {
    auto loaded = textclf::server::LoadServerConfig(config_file);
    if (!loaded.ok()) {
      logging::Error("bad_config", {{"message", std::string(loaded.status().message())}});
      return 2;
    }
    config = *loaded;
  }
  if (!models_dir.empty()) config.set_models_dir(models_dir);
  if (port >= 0) config.set_port(port);
  if (!host.empty()) config.set_host(host);
  if (threads >= 0) config.set_threads(threads);
  if (metrics_port >= -1) config.set_metrics_port(metrics_port);
  if (!metrics_host.empty()) config.set_metrics_host(metrics_host);
  if (!tls_cert.empty()) config.mutable_tls()->set_cert_file(tls_cert);
  if (!tls_key.empty()) config.mutable_tls()->set_key_file(tls_key);
  if (!tls_client_ca.empty()) config.mutable_tls()->set_client_ca_file(tls_client_ca);
  if (!auth_tokens.empty()) config.set_auth_tokens_file(auth_tokens);
  if (read_only) config.set_read_only(true);
  if (!import_dir.empty()) config.set_import_dir(import_dir);
  if (strict_readiness) config.set_strict_readiness(true);
  if (log_calls >= 0) config.set_log_call_fraction(log_calls);

  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = textclf::server::Server::Start(config, options);
  if (!server.ok()) {
    logging::Error("start_failed", {{"message", std::string(server.status().message())}});
    return 1;
  }
  const textclf::v1::ServerConfig& resolved = (*server)->config();
  std::string serving = absl::StrCat("serving ", resolved.models_dir(), " on port ", (*server)->port());
  if ((*server)->metrics_port() > 0) absl::StrAppend(&serving, ", metrics on port ", (*server)->metrics_port());
  if (options.poll_interval_s > 0) absl::StrAppend(&serving, ", polling every ", options.poll_interval_s, " s");
  logging::Info("serving", {{"message", serving},
                            {"version", TEXTCLF_VERSION},
                            {"models_dir", resolved.models_dir()},
                            {"host", resolved.host()},
                            {"port", (*server)->port()},
                            {"metrics_port", (*server)->metrics_port()},
                            {"tls", !resolved.tls().cert_file().empty()},
                            {"mutual_tls", !resolved.tls().client_ca_file().empty()},
                            {"auth", !resolved.auth_tokens_file().empty()},
                            {"read_only", resolved.read_only()}});

  int signal = 0;
  while (sigwait(&stop_signals, &signal) != 0) {
  }
  logging::Info("draining", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}, {"timeout_s", drain_timeout_s}});
  const auto started = std::chrono::steady_clock::now();
  const bool drained = (*server)->Drain(drain_timeout_s);
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
  // No grpc::Server::Shutdown: it would kill, with CANCELLED, the calls clients send before its
  // GOAWAY reaches them, and clients cannot safely retry CANCELLED. Exiting closes every
  // connection instead, and calls sent on them fail UNAVAILABLE, which clients retry on another
  // replica. Nothing is lost: every call has finished (or met the drain timeout), publishing is
  // durable when it returns, and the rest is in memory only.
  std::_Exit(0);
}
