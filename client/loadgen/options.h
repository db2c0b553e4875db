// The textclf-loadgen command line: every flag, its default, and the checks that turn a bad
// combination into a usage error (exit 2) before any request is sent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/channel_security.h"

namespace CLI {
class App;
}

namespace textclf::loadgen {

enum class Arrivals { kConstant, kPoisson };

struct MixWeights {
  int classify = 100;
  int evaluate = 0;
};

struct Options {
  std::vector<std::string> targets = {"localhost:50051"};
  int connections_per_target = 1;
  client::SecurityFlags security;  // TLS and the bearer token, as textclf takes them
  std::string model;
  int64_t version = 0;  // --model-version
  // --version: one empty string when given as a flag (print the program's version). It once named
  // the model version, so a value here is refused rather than silently skipping the run.
  std::vector<std::string> program_version;
  // Workload: a CSV column or one text per line of a text file.
  std::string csv;
  std::string text_column = "text";
  std::string label_column;
  std::string text_file;
  int batch_size = 1;
  // Load: closed loop over concurrency levels, or open loop over rates (one step per value).
  // The flags' items, numbers or ranges (sweep_values.h), become the values in Finalize.
  std::vector<std::string> concurrency_items;
  std::vector<std::string> rate_items;
  std::vector<int> concurrency;
  std::vector<double> rates;
  std::string arrivals_name = "constant";
  Arrivals arrivals = Arrivals::kConstant;
  uint64_t seed = 1;
  // Measurement.
  double warmup_s = 1;
  double duration_s = 5;
  int64_t requests = 0;  // > 0: windows of this many requests instead of `duration_s`
  double stability_percent = 0;
  int max_windows = 10;
  double timeout_s = 10;
  // Workload kind.
  bool health = false;
  std::string mix_text;
  MixWeights mix;
  std::string priority = "interactive";
  // The front door Classify requests go through: "textclf" (textclf.v1 Classify) or "oip-grpc"
  // (the Open Inference Protocol's ModelInfer on the same port).
  std::string protocol = "textclf";
  std::string http_target;  // host:port of the HTTP port, for --protocol oip-http
  // Output and gates.
  bool json = false;
  std::string csv_out;
  std::string plot;
  // A run whose errors exceed 1% of a step's requests is no measurement of the server's
  // capacity, so it fails unless asked otherwise; < 0 (or 1): no gate.
  double max_error_rate = 0.01;
  double max_p99_ms = -1;

  bool open_loop() const { return !rates.empty(); }
};

// Registers every flag on `app`, writing into `options`.
void AddFlags(CLI::App& app, Options& options);

// Checks combinations and fills derived fields (arrivals, mix, default concurrency). Returns an
// error message, or "" when the options are usable.
std::string Finalize(Options& options);

// "classify=90,evaluate=10" -> weights; an error message in `error` otherwise.
MixWeights ParseMix(const std::string& text, std::string* error);

}  // namespace textclf::loadgen
