// Flag registration and validation for textclf-loadgen.
#include "client/loadgen/options.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/loadgen/sweep_values.h"

namespace textclf::loadgen {

void AddFlags(CLI::App& app, Options& o) {
  app.add_option("--target", o.targets, "server address(es) HOST:PORT, comma-separated; round-robin over them")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--connections", o.connections_per_target, "gRPC channels (TCP connections) per target")
      ->capture_default_str();
  client::AddSecurityFlags(app, o.security);
  app.add_option("--model", o.model, "model to classify with (not needed with --health)");
  app.add_option("--model-version", o.version, "model version (0: latest loaded)")->capture_default_str();
  app.add_option("--version", o.program_version, "print textclf-loadgen's version and exit")->expected(0, 1);
  app.add_option("--csv", o.csv, "CSV file holding the texts");
  app.add_option("--text-column", o.text_column, "CSV column with the texts")->capture_default_str();
  app.add_option("--label-column", o.label_column, "CSV column with the labels (for evaluate requests)");
  app.add_option("--text-file", o.text_file, "text file, one text per line (instead of --csv)");
  app.add_option("--batch-size", o.batch_size, "texts per request")->capture_default_str();
  app.add_option("--concurrency", o.concurrency_items,
                 "closed loop: requests in flight; a sweep as a list (1,8,32) or a range (1:9:4 = 1,5,9; "
                 "1:64:x2 = 1,2,4,...,64)")
      ->delimiter(',');
  app.add_option("--rate", o.rate_items,
                 "open loop: requests per second; a sweep as a list (100,200) or a range (100:500:100; 50:800:x2)")
      ->delimiter(',');
  app.add_option("--arrivals", o.arrivals_name, "open-loop arrivals: constant or poisson")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the Poisson arrivals and the request mix")->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds of load before measuring (excluded)")->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds per measurement window")->capture_default_str();
  app.add_option("--requests", o.requests, "measure windows of this many requests instead of --duration");
  app.add_option("--stability-percent", o.stability_percent,
                 "repeat windows until the last 3 throughputs are within this percent of their mean");
  app.add_option("--max-windows", o.max_windows, "bound on windows per step with --stability-percent")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "deadline of every request, seconds")->capture_default_str();
  app.add_flag("--health", o.health, "call grpc.health.v1.Health/Check only: the transport ceiling");
  app.add_option("--mix", o.mix_text, "request mix, e.g. classify=90,evaluate=10");
  app.add_option("--priority", o.priority, "Classify priority: interactive or bulk")->capture_default_str();
  app.add_option("--protocol", o.protocol,
                 "the front door of the Classify requests: textclf (textclf.v1 Classify), oip-grpc (the Open "
                 "Inference Protocol's ModelInfer) or oip-http (its JSON infer on --http-target)")
      ->capture_default_str();
  app.add_option("--http-target", o.http_target,
                 "HOST:PORT of the server's HTTP port (its --http-port), for --protocol oip-http; plaintext");
  app.add_flag("--json", o.json, "one JSON object per step on stdout instead of the table");
  app.add_option("--csv-out", o.csv_out, "also write the steps to this CSV file");
  app.add_option("--plot", o.plot, "also draw latency percentiles against throughput to this SVG file");
  app.add_option("--max-error-rate", o.max_error_rate,
                 "exit 1 if a step's error fraction (0..1) exceeds this (1 or a negative value: never)")
      ->capture_default_str();
  app.add_option("--max-p99", o.max_p99_ms, "exit 1 if a step's p99 latency exceeds this many ms");
}

MixWeights ParseMix(const std::string& text, std::string* error) {
  MixWeights mix{0, 0};
  std::stringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) {
    const size_t eq = part.find('=');
    const std::string name = part.substr(0, eq);
    int weight = -1;
    if (eq != std::string::npos) {
      const char* begin = part.data() + eq + 1;
      const char* end = part.data() + part.size();
      auto [stop, error_code] = std::from_chars(begin, end, weight);
      if (error_code != std::errc() || stop != end || begin == end) weight = -1;
    }
    if (weight < 0) {
      *error = "--mix: \"" + part + "\" is not NAME=WEIGHT with a non-negative integer weight";
      return {};
    }
    if (name == "classify") {
      mix.classify = weight;
    } else if (name == "evaluate") {
      mix.evaluate = weight;
    } else {
      *error = "--mix: unknown request kind \"" + name + "\" (classify, evaluate)";
      return {};
    }
  }
  if (mix.classify + mix.evaluate <= 0) *error = "--mix: the weights add up to zero";
  return mix;
}

std::string Finalize(Options& o) {
  if (o.targets.empty()) return "--target: give at least one HOST:PORT";
  if (!o.concurrency_items.empty()) {
    absl::StatusOr<std::vector<double>> values = ExpandSweep(o.concurrency_items, "--concurrency");
    if (!values.ok()) return std::string(values.status().message());
    o.concurrency.clear();
    for (double v : *values) {
      if (v != std::floor(v) || v > std::numeric_limits<int>::max()) {
        return "--concurrency values must be whole numbers; " + absl::StrCat(v) + " is not";
      }
      o.concurrency.push_back(static_cast<int>(v));
    }
  }
  if (!o.rate_items.empty()) {
    absl::StatusOr<std::vector<double>> values = ExpandSweep(o.rate_items, "--rate");
    if (!values.ok()) return std::string(values.status().message());
    o.rates = std::move(*values);
  }
  if (o.connections_per_target < 1) return "--connections must be at least 1";
  if (!o.concurrency.empty() && !o.rates.empty()) return "give --concurrency (closed loop) or --rate (open loop), not both";
  if (o.concurrency.empty() && o.rates.empty()) o.concurrency = {1};
  for (int c : o.concurrency) {
    if (c < 1) return "--concurrency values must be at least 1";
  }
  for (double r : o.rates) {
    if (!(r > 0)) return "--rate values must be positive";
  }
  if (o.arrivals_name == "constant") {
    o.arrivals = Arrivals::kConstant;
  } else if (o.arrivals_name == "poisson") {
    o.arrivals = Arrivals::kPoisson;
  } else {
    return "--arrivals must be constant or poisson";
  }
  if (o.batch_size < 1) return "--batch-size must be at least 1";
  if (o.warmup_s < 0) return "--warmup must not be negative";
  if (o.requests < 0) return "--requests must not be negative";
  if (o.requests == 0 && !(o.duration_s > 0)) return "--duration must be positive";
  if (!(o.timeout_s > 0)) return "--timeout must be positive";
  if (o.stability_percent < 0) return "--stability-percent must not be negative";
  if (o.max_windows < 1) return "--max-windows must be at least 1";
  if (o.priority != "interactive" && o.priority != "bulk") return "--priority must be interactive or bulk";
  if (o.protocol != "textclf" && o.protocol != "oip-grpc" && o.protocol != "oip-http") {
    return "--protocol: \"" + o.protocol + "\" is not textclf, oip-grpc or oip-http";
  }
  if ((o.protocol == "oip-http") != !o.http_target.empty()) {
    return "--protocol oip-http and --http-target HOST:PORT go together";
  }
  if (o.protocol != "textclf" && (!o.mix_text.empty() || o.health)) {
    return "--protocol " + o.protocol + " sends Classify requests only; it excludes --mix and --health";
  }
  if (!o.mix_text.empty()) {
    std::string error;
    o.mix = ParseMix(o.mix_text, &error);
    if (!error.empty()) return error;
  }
  if (o.health) {
    if (!o.mix_text.empty()) return "--health and --mix exclude each other";
    return "";
  }
  if (o.model.empty()) return "--model is required (unless --health)";
  if (o.csv.empty() == o.text_file.empty()) return "give the texts with --csv FILE --text-column COL, or --text-file FILE";
  if (o.mix.evaluate > 0 && (o.csv.empty() || o.label_column.empty())) {
    return "evaluate requests need labels: --csv FILE with --label-column COL";
  }
  return "";
}

}  // namespace textclf::loadgen
