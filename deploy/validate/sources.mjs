// What the manifests must agree with, read from the repository itself: the metric names the
// server registers, the fields of its configuration message, the container image's Dockerfile
// and the prometheus-adapter rules the HPA relies on.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// Every series name the server exposes: counters and gauges as registered, histograms with the
// _bucket, _sum and _count suffixes Prometheus gives them.
export function serverMetricNames(source = readFileSync(join(repoRoot, "server/metrics/prometheus_metrics.cc"), "utf8")) {
  const names = new Set();
  for (const m of source.matchAll(/\b(Counter|Gauge|Histogram)\(\*registry_,\s*"(textclf_[a-z0-9_]+)"/g)) {
    if (m[1] === "Histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(m[2] + suffix);
    else names.add(m[2]);
  }
  return names;
}

// Field names (JSON keys, proto names) of a message in a .proto file.
export function protoFields(message, source = readFileSync(join(repoRoot, "proto/textclf/v1/server_config.proto"), "utf8")) {
  const start = source.search(new RegExp(`^message ${message} \\{`, "m"));
  if (start < 0) return new Set();
  let depth = 0, end = start;
  for (let i = source.indexOf("{", start); i < source.length; i++) {
    if (source[i] === "{") depth++;
    if (source[i] === "}" && --depth === 0) { end = i; break; }
  }
  const body = source.slice(start, end);
  const fields = new Set();
  for (const m of body.matchAll(/^\s*(?:optional\s+|repeated\s+)?(?:map<[^>]+>|[A-Za-z0-9_.]+)\s+([a-z_][a-z0-9_]*)\s*=\s*\d+/gm)) fields.add(m[1]);
  return fields;
}

export function dockerfile() {
  return readFileSync(join(repoRoot, "Dockerfile"), "utf8");
}

export function adapterRules() {
  return YAML.parse(readFileSync(join(repoRoot, "deploy/k8s/monitoring/prometheus-adapter-rules.yaml"), "utf8"));
}

export function defaultContext() {
  return {
    metrics: serverMetricNames(),
    serverConfigFields: protoFields("ServerConfig"),
    dockerfile: dockerfile(),
    adapter: adapterRules(),
    exists: (path) => existsSync(join(repoRoot, path)),
  };
}
