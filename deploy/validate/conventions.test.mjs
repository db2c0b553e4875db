// The validator's own tests (node --test): the base manifests pass, and each kind of mistake the
// conventions exist for is caught, naming what is wrong. Run by deploy/validate before it
// validates the overlays, so a check that silently stopped working fails CI.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import YAML from "yaml";
import { conventionErrors, cpuCores, matchesLabel, parseArgs, selectorsOf } from "./conventions.mjs";
import { schemaErrors } from "./schemas.mjs";
import { announcedMetricNames, defaultContext, repoRoot, serverMetricNames, protoFields } from "./sources.mjs";

const base = join(repoRoot, "deploy/k8s/base");
const ctx = defaultContext();

// The base's documents as kustomize would render them: its resources, the ConfigMaps its
// configMapGenerator makes (without the name hash), and its strategic-merge patches (maps merged,
// lists replaced, which is all the base's patches need).
function baseDocs() {
  const kustomization = YAML.parse(readFileSync(join(base, "kustomization.yaml"), "utf8"));
  const docs = [];
  for (const file of kustomization.resources ?? []) {
    docs.push(...YAML.parseAllDocuments(readFileSync(join(base, file), "utf8")).map((d) => d.toJS()));
  }
  for (const g of kustomization.configMapGenerator ?? []) {
    const data = {};
    for (const f of g.files ?? []) {
      const [key, path] = f.includes("=") ? f.split("=") : [f, f];
      data[key] = readFileSync(join(base, path), "utf8");
    }
    docs.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data });
  }
  for (const file of kustomization.patchesStrategicMerge ?? []) {
    const patch = YAML.parse(readFileSync(join(base, file), "utf8"));
    const target = docs.find((d) => d.kind === patch.kind && d.metadata.name === patch.metadata.name);
    assert.ok(target, `${file} patches ${patch.kind}/${patch.metadata.name}, which the base lacks`);
    merge(target, patch);
  }
  return docs;
}

function merge(into, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (v && typeof v === "object" && !Array.isArray(v) && into[k] && typeof into[k] === "object") merge(into[k], v);
    else into[k] = v;
  }
}

const find = (docs, kind, name) => docs.find((d) => d.kind === kind && (!name || d.metadata.name === name));
const server = (docs) => find(docs, "Deployment").spec.template.spec.containers[0];
// Sets `--flag=value` in a list of arguments (replacing the flag's entry, or appending it), or
// removes the flag when value is undefined.
function setFlag(list, flag, value) {
  const rest = list.filter((a) => a !== flag && !String(a).startsWith(`${flag}=`));
  if (value !== undefined) rest.push(value === "" ? flag : `${flag}=${value}`);
  list.splice(0, list.length, ...rest);
}
const serverFlag = (d, flag, value) => setFlag(server(d).args, flag, value);
function editDashboard(d, edit) {
  const cm = find(d, "ConfigMap", "textclf-grafana-dashboard");
  const dash = JSON.parse(cm.data["textclf-dashboard.json"]);
  edit(dash);
  cm.data["textclf-dashboard.json"] = JSON.stringify(dash);
}
const rule = (d, alert) => find(d, "PrometheusRule").spec.groups.flatMap((g) => g.rules).find((r) => r.alert === alert);
const probeFlag = (d, probe, flag, value) => setFlag(server(d)[probe].exec.command, flag, value);

// The errors after `mutate` changed a fresh copy of the base.
function errorsAfter(mutate, context = ctx) {
  const docs = baseDocs();
  mutate(docs);
  return conventionErrors(docs, context);
}

function assertCaught(errors, fragment) {
  assert.ok(errors.some((e) => e.includes(fragment)), `expected an error containing "${fragment}", got:\n${errors.join("\n")}`);
}

test("the base manifests follow every convention", () => {
  assert.deepEqual(conventionErrors(baseDocs(), ctx), []);
});

test("the base manifests pass their schemas", async () => {
  for (const doc of baseDocs()) assert.deepEqual(await schemaErrors(doc), [], `${doc.kind}/${doc.metadata.name}`);
});

test("schemas reject a wrong type, an unknown kind and a bad prometheus-operator field", async () => {
  const docs = baseDocs();
  server(docs).ports[0].containerPort = "fifty";
  assert.match((await schemaErrors(find(docs, "Deployment"))).join(), /containerPort must be integer/);
  assert.match((await schemaErrors({ apiVersion: "v1", kind: "Pdo", metadata: { name: "x" } })).join(), /no schema/);
  const rule = find(docs, "PrometheusRule");
  rule.spec.groups[0].rules[0].for = "ten minutes";
  assert.match((await schemaErrors(rule)).join(), /for must match pattern/);
});

test("the sources are read: metric names and ServerConfig fields", () => {
  const names = serverMetricNames();
  for (const n of ["textclf_requests_total", "textclf_request_duration_seconds_bucket", "textclf_model_ece"]) assert.ok(names.has(n), n);
  assert.ok(!names.has("textclf_request_duration_seconds"), "a histogram is only its _bucket, _sum and _count series");
  const parsed = serverMetricNames([
    'Histogram(*registry_, "textclf_a_seconds", "x")',
    'prometheus::BuildGauge().Name("textclf_b").Help("x")',
    'family.name = "process_open_fds";',
  ]);
  assert.deepEqual([...parsed].sort(), ["process_open_fds", "textclf_a_seconds_bucket", "textclf_a_seconds_count",
                                        "textclf_a_seconds_sum", "textclf_b"]);
  const fields = protoFields("ServerConfig");
  for (const f of ["models_dir", "version_policy", "model_overrides", "metrics_port"]) assert.ok(fields.has(f), f);
});

test("announced metrics count until the server registers them", () => {
  const announced = [["Histogram", "textclf_x_seconds"], ["Gauge", "textclf_y"]];
  assert.deepEqual([...announcedMetricNames(new Set(["textclf_y"]), announced)],
                   ["textclf_x_seconds_bucket", "textclf_x_seconds_sum", "textclf_x_seconds_count"]);
  const addAlert = (d) => find(d, "PrometheusRule").spec.groups[0].rules.push(
    { alert: "Z", expr: "textclf_z > 1", for: "5m", labels: { severity: "warning" }, annotations: { summary: "z" } });
  assertCaught(errorsAfter(addAlert), "textclf_z is not a metric");
  assert.deepEqual(errorsAfter(addAlert, { ...ctx, metrics: new Set([...ctx.metrics, "textclf_z"]) }), []);
});

test("helpers: PromQL selectors and label matchers", () => {
  const [m] = selectorsOf('rate(textclf_requests_total{job="j", code!~"OK|CANCELLED"}[5m])', "textclf_requests_total");
  assert.ok(matchesLabel(m, "code", "RESOURCE_EXHAUSTED"));
  assert.ok(!matchesLabel(m, "code", "OK"));
  assert.ok(!matchesLabel(m, "code", "CANCELLED"));
  assert.ok(matchesLabel(m, "model", "anything"));
});

test("helpers: flags and CPU quantities", () => {
  assert.deepEqual([...parseArgs(["--port=1", "--x", "2", "--flag"])], [["--port", "1"], ["--x", "2"], ["--flag", ""]]);
  assert.equal(cpuCores("500m"), 0.5);
  assert.equal(cpuCores("2"), 2);
});

const cases = [
  ["a missing readiness probe", (d) => delete server(d).readinessProbe, "has no readinessProbe"],
  ["a probe on another port", (d) => probeFlag(d, "livenessProbe", "--server", "127.0.0.1:50052"), "livenessProbe must ask this pod's own port"],
  ["a probe asking about an unknown health service", (d) => probeFlag(d, "readinessProbe", "--service", "textclf"), "does not report"],
  ["readiness without strict readiness", (d) => serverFlag(d, "--strict-readiness", undefined), "--strict-readiness must be given"],
  ["readiness on a status strict readiness leaves alone", (d) => probeFlag(d, "readinessProbe", "--service", "textclf.v1.Classifier"), "turns only the overall status"],
  ["liveness on the overall status under strict readiness", (d) => probeFlag(d, "livenessProbe", "--service", undefined), "livenessProbe asks the overall status"],
  ["liveness on one model's health", (d) => probeFlag(d, "livenessProbe", "--service", "textclf.v1.Classifier/clickbait"), 'livenessProbe asks "textclf.v1.Classifier/clickbait"'],
  ["startup on the overall status under strict readiness", (d) => probeFlag(d, "startupProbe", "--service", undefined), "startupProbe asks the overall status"],
  ["kubelet's gRPC probe against a TLS port", (d) => { server(d).startupProbe = { grpc: { port: 50051 }, periodSeconds: 5, failureThreshold: 60 }; }, "speaks plaintext only"],
  ["a probe that does not trust the server's CA", (d) => probeFlag(d, "readinessProbe", "--tls-ca", undefined), "textclf health needs --tls-ca"],
  ["a probe checking the certificate for 127.0.0.1", (d) => probeFlag(d, "livenessProbe", "--server-name", undefined), "needs --server-name"],
  ["a probe whose deadline outlasts kubelet's", (d) => probeFlag(d, "readinessProbe", "--timeout", "5"), "must be shorter than timeoutSeconds"],
  ["a probe without a client certificate under mutual TLS", (d) => serverFlag(d, "--tls-client-ca", "/etc/textclf/tls/client-ca.crt"), "textclf health needs --tls-cert"],
  ["a server on loopback", (d) => serverFlag(d, "--host", undefined), "--host must be 0.0.0.0"],
  ["/metrics on loopback", (d) => serverFlag(d, "--metrics-host", "127.0.0.1"), "--metrics-host must be 0.0.0.0"],
  ["a server without tokens", (d) => serverFlag(d, "--auth-tokens", undefined), "--auth-tokens must be given"],
  ["a server without TLS", (d) => { serverFlag(d, "--tls-cert", undefined); serverFlag(d, "--tls-key", undefined); }, "--tls-cert must be given"],
  ["text logs", (d) => serverFlag(d, "--log-format", undefined), "--log-format must be json"],
  ["a Secret mounted with subPath", (d) => { const m = server(d).volumeMounts.find((v) => v.name === "tls"); m.subPath = "tls.crt"; }, "never sees the Secret change"],
  ["a token file in no volume", (d) => serverFlag(d, "--auth-tokens", "/var/run/tokens"), "--auth-tokens /var/run/tokens is in no mounted volume"],
  ["a container port that is not --port", (d) => { server(d).ports[0].containerPort = 50052; }, "differs from --port"],
  ["a metrics port that is not --metrics-port", (d) => serverFlag(d, "--metrics-port", "9100"), "differs from --metrics-port"],
  ["a grace period shorter than preStop + drain", (d) => { find(d, "Deployment").spec.template.spec.terminationGracePeriodSeconds = 10; }, "terminationGracePeriodSeconds (10)"],
  ["no preStop", (d) => delete server(d).lifecycle, "preStop"],
  ["a liveness probe that would kill a draining pod", (d) => { server(d).livenessProbe.failureThreshold = 1; }, "a draining pod would be killed"],
  ["no poll interval", (d) => { server(d).args = server(d).args.filter((a) => !a.startsWith("--poll-interval")); }, "--poll-interval must be > 0"],
  ["no CPU request", (d) => delete server(d).resources.requests.cpu, "resources.requests.cpu"],
  ["more threads than CPUs", (d) => { server(d).args = server(d).args.map((a) => a.replace("--threads=2", "--threads=8")); }, "exceeds the CPU limit"],
  ["a writable root file system", (d) => { server(d).securityContext.readOnlyRootFilesystem = false; }, "read-only root file system"],
  ["running as root", (d) => { find(d, "Deployment").spec.template.spec.securityContext.runAsUser = 0; }, "non-zero runAsUser"],
  ["a deployment selector not matching its pods", (d) => { find(d, "Deployment").spec.selector.matchLabels["app.kubernetes.io/component"] = "api"; }, "does not select the pod template"],
  ["a service selecting no pod", (d) => { find(d, "Service", "textclf-grpc").spec.selector = { app: "other" }; }, "Service/textclf-grpc: its selector matches no Deployment"],
  ["a service port to a port the pods lack", (d) => { find(d, "Service", "textclf-metrics").spec.ports[0].targetPort = "prometheus"; }, "targets prometheus"],
  ["a gRPC service that is not headless", (d) => delete find(d, "Service", "textclf-grpc").spec.clusterIP, "must be headless"],
  ["no NetworkPolicy", (d) => d.splice(d.indexOf(find(d, "NetworkPolicy")), 1), "no NetworkPolicy"],
  ["a NetworkPolicy selecting no pod", (d) => { find(d, "NetworkPolicy").spec.podSelector.matchLabels = { app: "x" }; }, "its podSelector matches no Deployment"],
  ["a NetworkPolicy admitting gRPC from anyone", (d) => { delete find(d, "NetworkPolicy").spec.ingress[0].from; }, 'has no "from"'],
  ["a NetworkPolicy admitting gRPC from a whole namespace", (d) => { find(d, "NetworkPolicy").spec.ingress[0].from = [{ namespaceSelector: { matchLabels: { team: "ml" } } }]; }, "other than labelled client pods"],
  ["a NetworkPolicy admitting /metrics from any pod", (d) => { find(d, "NetworkPolicy").spec.ingress[1].from = [{ podSelector: {} }]; }, "other than a namespace picked by label"],
  ["a NetworkPolicy on a port the pods lack", (d) => { find(d, "NetworkPolicy").spec.ingress[1].ports[0].port = "prometheus"; }, "admits port prometheus"],
  ["a NetworkPolicy that shuts Prometheus out", (d) => { find(d, "NetworkPolicy").spec.ingress.pop(); }, "no ingress rule admits the metrics port"],
  ["a PDB selecting no pod", (d) => { find(d, "PodDisruptionBudget").spec.selector.matchLabels = { app: "x" }; }, "PodDisruptionBudget/textclf-server: its selector matches no Deployment"],
  ["an HPA on a metric the adapter does not serve", (d) => { find(d, "HorizontalPodAutoscaler").spec.metrics[1].pods.metric.name = "queue_p90"; }, "not defined by"],
  ["an HPA without CPU", (d) => { find(d, "HorizontalPodAutoscaler").spec.metrics.shift(); }, "must scale on CPU"],
  ["a ServiceMonitor on a port the service lacks", (d) => { find(d, "ServiceMonitor").spec.endpoints[0].port = "http"; }, "endpoint port http"],
  ["an alert on a metric the server does not export", (d) => { find(d, "PrometheusRule").spec.groups[0].rules[0].expr = "textclf_latency_p99 > 1"; }, "textclf_latency_p99 is not a metric"],
  ["an alert selecting another job", (d) => { const r = find(d, "PrometheusRule").spec.groups[0].rules[2]; r.expr = r.expr.replace("textclf-metrics", "textclf"); }, 'selects job="textclf"'],
  ["an error ratio blind to load shedding", (d) => { const r = rule(d, "TextclfErrorRatioHigh"); r.expr = r.expr.replace("RESOURCE_EXHAUSTED|", ""); }, "no alert on the error ratio, load shedding (RESOURCE_EXHAUSTED) included"],
  ["an error ratio counting successes as errors", (d) => { const r = rule(d, "TextclfErrorRatioHigh"); r.expr = r.expr.replace(/code=~"[^"]*"/, 'code=~".+"'); }, "no alert on the error ratio"],
  ["no alert on failed loads", (d) => { const g = find(d, "PrometheusRule").spec.groups[0]; g.rules = g.rules.filter((r) => r.alert !== "TextclfModelLoadFailed"); }, "no alert on a model that failed to load"],
  ["an alert paging for a version unloaded on purpose", (d) => { rule(d, "TextclfModelNotLoaded").expr = 'max by (namespace, pod, model) (textclf_model_loaded{job="textclf-metrics"}) == 0'; }, "textclf_model_loaded is 0 for versions unloaded on purpose"],
  ["no ECE alert", (d) => { const g = find(d, "PrometheusRule").spec.groups[1]; g.rules = g.rules.filter((r) => !r.expr.includes("ece")); }, "no alert on ECE"],
  ["an alert without severity", (d) => delete find(d, "PrometheusRule").spec.groups[0].rules[0].labels, "needs a severity label"],
  ["a dashboard the Grafana sidecar would not find", (d) => { delete find(d, "ConfigMap", "textclf-grafana-dashboard").metadata.labels; }, "needs the label grafana_dashboard"],
  ["a ServiceMonitor Prometheus would not select", (d) => { delete find(d, "ServiceMonitor").metadata.labels.release; }, "ServiceMonitor/textclf: needs the label release"],
  ["rules and scrape for two different Prometheus releases", (d) => { find(d, "PrometheusRule").metadata.labels.release = "prometheus"; }, "carry different release labels"],
  ["a dashboard without queue time", (d) => {
    const cm = find(d, "ConfigMap", "textclf-grafana-dashboard");
    const dash = JSON.parse(cm.data["textclf-dashboard.json"]);
    dash.panels = dash.panels.filter((p) => !JSON.stringify(p).includes("queue_duration"));
    cm.data["textclf-dashboard.json"] = JSON.stringify(dash);
  }, "no panel shows queue time"],
  ["a dashboard stat panel without a fallback for missing series", (d) => editDashboard(d, (dash) => {
    const t = dash.panels.find((p) => p.type === "stat").targets[0];
    t.expr = t.expr.replace(/ or vector\(0\)$/, "");
  }), 'add "or vector(0)"'],
  ["a dashboard without model states", (d) => editDashboard(d, (dash) => {
    dash.panels = dash.panels.filter((p) => !JSON.stringify(p.targets).includes("textclf_model_state{"));
  }), "no panel shows model states"],
  ["a dashboard whose error ratio leaves out load shedding", (d) => editDashboard(d, (dash) => {
    for (const p of dash.panels) for (const t of p.targets) t.expr = t.expr.replace("RESOURCE_EXHAUSTED|", "");
  }), "no panel shows the error ratio"],
  ["a dashboard query on a misspelt metric", (d) => {
    const cm = find(d, "ConfigMap", "textclf-grafana-dashboard");
    cm.data["textclf-dashboard.json"] = cm.data["textclf-dashboard.json"].replace(/textclf_batch_size_sum/g, "textclf_batchsize_sum");
  }, "textclf_batchsize_sum is not a metric"],
  ["a server config field the server does not know", (d) => {
    const cm = find(d, "ConfigMap", "textclf-server-config");
    cm.data["server.json"] = JSON.stringify({ ...JSON.parse(cm.data["server.json"]), poll_interval: 10 });
  }, `sets "poll_interval"`],
  ["a serving replica that may change models", (d) => serverFlag(d, "--read-only", undefined), "serving replicas run --read-only"],
  ["a serving replica mounting the models read-write", (d) => { delete server(d).volumeMounts.find((m) => m.name === "models").readOnly; }, "must be mounted readOnly"],
  ["a training Job that cannot publish", (d) => { find(d, "Job").spec.template.spec.containers[0].volumeMounts.find((m) => m.name === "models").readOnly = true; }, "the Job is the one that publishes"],
  ["a training Job writing elsewhere", (d) => { find(d, "Job").spec.template.spec.volumes[0].persistentVolumeClaim.claimName = "scratch"; }, "must publish into the serving replicas' model volume"],
  ["the gpu variant without a GPU", (d) => { find(d, "Deployment").metadata.annotations = { "textclf.dev/variant": "gpu" }; }, "must limit nvidia.com/gpu"],
  ["a GPU without node selection", (d) => { server(d).resources.limits["nvidia.com/gpu"] = "1"; server(d).resources.requests["nvidia.com/gpu"] = "1"; }, "must select GPU nodes"],
  ["a document without the app label", (d) => delete find(d, "PersistentVolumeClaim").metadata.labels, "needs the label app.kubernetes.io/name"],
];

for (const [what, mutate, fragment] of cases) {
  test(`catches ${what}`, () => assertCaught(errorsAfter(mutate), fragment));
}

test("catches a Dockerfile that does not expose the metrics port or health-check the gRPC port", () => {
  const dockerfile = ctx.dockerfile.replace("EXPOSE 50051 8080 9464", "EXPOSE 50051 8080").replace("127.0.0.1:50051", "127.0.0.1:8081");
  const errors = errorsAfter(() => {}, { ...ctx, dockerfile });
  assertCaught(errors, "EXPOSE lacks port 9464");
  assertCaught(errors, "HEALTHCHECK must run textclf health on port 50051");
});

test("catches a Dockerfile COPY of a file the repository lacks, and a Job running a program the image lacks", () => {
  const dockerfile = ctx.dockerfile.replace("deploy/docker/textclf-train-and-publish", "deploy/docker/train.sh");
  const errors = errorsAfter(() => {}, { ...ctx, dockerfile });
  assertCaught(errors, "COPY deploy/docker/train.sh, which is not in the repository");
  assertCaught(errors, "runs textclf-train-and-publish, which the Dockerfile does not install");
});

test("every alert has a promtool unit test in which it fires (validate/alerts.test.yaml)", () => {
  const unit = YAML.parse(readFileSync(join(repoRoot, "deploy/validate/alerts.test.yaml"), "utf8"));
  const tested = new Set(unit.tests.flatMap((t) => t.alert_rule_test ?? []).filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname));
  const alerts = find(baseDocs(), "PrometheusRule").spec.groups.flatMap((g) => g.rules).map((r) => r.alert).filter(Boolean);
  assert.deepEqual(alerts.filter((a) => !tested.has(a)), []);
});
