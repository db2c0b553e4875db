// What the manifests must agree with, read from the repository itself: the metric names the
// server registers, the fields of its configuration message, the container image's Dockerfile
// and the prometheus-adapter rules the HPA relies on.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// Every series name the server exposes, from the sources of server/metrics/: counters and gauges
// as registered, histograms with the _bucket, _sum and _count suffixes Prometheus gives them.
// Registrations through the Counter/Gauge/Histogram helpers or prometheus-cpp's Build*().Name()
// carry their type; any other "textclf_..." or "process_..." literal (a collector writing its
// families by hand) counts as a plain counter or gauge.
export function serverMetricNames(sources = metricsSources()) {
  const names = new Set();
  const add = (type, name) => {
    if (type === "Histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    else names.add(name);
  };
  for (const source of [sources].flat()) {
    const typed = new Set();
    for (const m of source.matchAll(/\b(?:Build)?(Counter|Gauge|Histogram)\((?:\*?\w+,\s*|\)\s*\.Name\()"((?:textclf|process)_[a-z0-9_]+)"/g)) {
      add(m[1], m[2]);
      typed.add(m[2]);
    }
    for (const m of source.matchAll(/"((?:textclf|process)_[a-z0-9_]+)"/g)) if (!typed.has(m[1])) add("Gauge", m[1]);
  }
  return names;
}

function metricsSources() {
  const dir = join(repoRoot, "server/metrics");
  return readdirSync(dir).filter((f) => f.endsWith(".cc")).sort().map((f) => readFileSync(join(dir, f), "utf8"));
}

// Metrics the manifests use that server work in progress announced and server/metrics/ does not
// register yet: model state, every outcome of the other RPCs, the build, the process. The
// validator accepts them and says which are still missing (main.mjs), so that a name misspelt
// here or dropped from the plan shows; an entry leaves this list once the server registers it.
export const ANNOUNCED_METRICS = [
  ["Gauge", "textclf_model_state"],
  ["Counter", "textclf_grpc_requests_total"],
  ["Histogram", "textclf_grpc_request_duration_seconds"],
  ["Gauge", "textclf_build_info"],
  ["Gauge", "process_resident_memory_bytes"],
  ["Counter", "process_cpu_seconds_total"],
  ["Gauge", "process_open_fds"],
  ["Gauge", "process_threads"],
];

// The announced names (with histogram suffixes) that `registered` lacks.
export function announcedMetricNames(registered, announced = ANNOUNCED_METRICS) {
  const names = new Set();
  for (const [type, name] of announced) {
    const series = type === "Histogram" ? ["_bucket", "_sum", "_count"].map((s) => name + s) : [name];
    for (const n of series) if (!registered.has(n)) names.add(n);
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
  const registered = serverMetricNames();
  const announced = announcedMetricNames(registered);
  return {
    metrics: new Set([...registered, ...announced]),
    announced,
    serverConfigFields: protoFields("ServerConfig"),
    dockerfile: dockerfile(),
    adapter: adapterRules(),
    exists: (path) => existsSync(join(repoRoot, path)),
  };
}
