// Our own rules for the rendered manifests, beyond what the schemas say: the things that, when
// wrong, give a deployment that applies cleanly and then misbehaves (a probe on the wrong port,
// a service selecting no pod, an alert on a metric the server never exports, SIGKILL cutting a
// drain short). Each check returns messages naming the document at fault; none means all good.

// The health entries the server reports: "" (the whole server), the service, and one per model.
const reportsHealth = (service) => service === "" || service === "textclf.v1.Classifier" || /^textclf\.v1\.Classifier\/[^/]+$/.test(service);

// "--flag=value" and "--flag value" -> Map(flag -> value).
export function parseArgs(args = []) {
  const flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]);
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
    else if (i + 1 < args.length && !String(args[i + 1]).startsWith("--")) flags.set(a, String(args[++i]));
    else flags.set(a, "");
  }
  return flags;
}

// Kubernetes CPU quantity ("2", "500m", 1.5) in cores; NaN when unreadable.
export function cpuCores(q) {
  if (typeof q === "number") return q;
  const m = /^([0-9.]+)(m?)$/.exec(String(q ?? ""));
  if (!m) return NaN;
  return m[2] === "m" ? Number(m[1]) / 1000 : Number(m[1]);
}

// The textclf_ and process_ series an expression reads (other exporters' names are not checked).
export function metricNamesIn(expr) {
  return [...String(expr).matchAll(/\b(?:textclf|process)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

const selects = (selector, labels) =>
  !!selector && Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const id = (doc) => `${doc.kind}/${doc.metadata?.name}`;

function checkDeployment(d, ctx, docs, errors) {
  const err = (msg) => errors.push(`${id(d)}: ${msg}`);
  const pod = d.spec?.template?.spec ?? {};
  const podLabels = d.spec?.template?.metadata?.labels ?? {};
  if (!selects(d.spec?.selector?.matchLabels, podLabels)) err("spec.selector.matchLabels does not select the pod template's labels");
  if (pod.securityContext?.runAsNonRoot !== true) err("the pod must set securityContext.runAsNonRoot: true");
  if (!(pod.securityContext?.runAsUser > 0)) err("the pod must run as a non-zero runAsUser");
  const server = (pod.containers ?? []).find((c) => (c.ports ?? []).some((p) => p.name === "grpc"));
  if (!server) return err("no container has a port named grpc");
  const flags = parseArgs(server.args);
  const port = Number(flags.get("--port"));
  const metricsPort = Number(flags.get("--metrics-port"));
  const drain = Number(flags.get("--drain-timeout"));
  for (const [flag, value] of [["--port", port], ["--metrics-port", metricsPort], ["--drain-timeout", drain]]) {
    if (!Number.isFinite(value)) err(`container ${server.name}: ${flag} must be given in args (the probes, services and grace period depend on it)`);
  }
  if (!(Number(flags.get("--poll-interval")) > 0)) err(`container ${server.name}: replicas share one repository, so --poll-interval must be > 0`);
  const portNamed = (name) => (server.ports ?? []).find((p) => p.name === name)?.containerPort;
  if (portNamed("grpc") !== port) err(`container port grpc (${portNamed("grpc")}) differs from --port (${port})`);
  if (portNamed("metrics") !== metricsPort) err(`container port metrics (${portNamed("metrics")}) differs from --metrics-port (${metricsPort})`);

  checkExposure(server, flags, pod, err);
  if (!flags.has("--strict-readiness")) err(`container ${server.name}: --strict-readiness must be given, so that a pod whose models failed to load is not Ready`);
  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const probe = server[kind];
    if (!probe) { err(`container ${server.name} has no ${kind}`); continue; }
    checkProbe(kind, probe, { port, flags, server, pod }, err);
  }
  const window = (p) => (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3);
  if (server.startupProbe && window(server.startupProbe) < 60) err("startupProbe allows under 60 s for loading models");
  if (server.livenessProbe && window(server.livenessProbe) <= drain) {
    err(`livenessProbe gives up after ${window(server.livenessProbe)} s, within the ${drain} s drain: a draining pod would be killed`);
  }
  const preStop = server.lifecycle?.preStop?.exec?.command;
  const sleep = Array.isArray(preStop) && preStop[0] === "sleep" ? Number(preStop[1]) : NaN;
  if (!Number.isFinite(sleep)) err("container needs a preStop [sleep, N] so endpoint removal spreads before SIGTERM");
  const grace = d.spec?.template?.spec?.terminationGracePeriodSeconds;
  if (Number.isFinite(sleep) && Number.isFinite(drain) && !(grace >= sleep + drain && grace <= sleep + drain + 30)) {
    err(`terminationGracePeriodSeconds (${grace}) must cover preStop ${sleep} s + --drain-timeout ${drain} s (and not much more)`);
  }

  const threads = Number(flags.get("--threads"));
  const cpuLimit = cpuCores(server.resources?.limits?.cpu);
  if (Number.isFinite(threads) && Number.isFinite(cpuLimit) && threads > cpuLimit) {
    err(`--threads ${threads} exceeds the CPU limit of ${cpuLimit} cores`);
  }
  checkContainerBasics(d, server, err);

  const mounts = new Map((server.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const modelsVolume = volumes.get(mounts.get(flags.get("--models")));
  // One writer, the training Job: a replica can change nothing it serves, whatever a caller does.
  const modelsMount = (server.volumeMounts ?? []).find((m) => m.mountPath === flags.get("--models"));
  if (!flags.has("--read-only")) err(`container ${server.name}: serving replicas run --read-only (the training Job is the repository's one writer)`);
  if (modelsMount && modelsMount.readOnly !== true && modelsVolume?.persistentVolumeClaim?.readOnly !== true) {
    err(`container ${server.name}: the model volume at ${modelsMount.mountPath} must be mounted readOnly (the training Job is its one writer)`);
  }
  if (!modelsVolume?.persistentVolumeClaim) err(`--models ${flags.get("--models")} is not a mounted PersistentVolumeClaim`);
  else if (!docs.some((x) => x.kind === "PersistentVolumeClaim" && x.metadata.name === modelsVolume.persistentVolumeClaim.claimName)) {
    err(`the models volume claims ${modelsVolume.persistentVolumeClaim.claimName}, which is not among the manifests`);
  }
  const config = flags.get("--config");
  if (config !== undefined) {
    const mount = (server.volumeMounts ?? []).find((m) => config.startsWith(m.mountPath + "/"));
    const cm = mount && volumes.get(mount.name)?.configMap?.name;
    const doc = cm && docs.find((x) => x.kind === "ConfigMap" && x.metadata.name === cm);
    const key = mount && config.slice(mount.mountPath.length + 1);
    if (!doc || doc.data?.[key] === undefined) err(`--config ${config} is not a key of a ConfigMap mounted there`);
    else checkServerConfig(doc, key, ctx, errors);
  }

  const gpus = server.resources?.limits?.["nvidia.com/gpu"];
  const variant = d.metadata?.annotations?.["textclf.dev/variant"];
  if (variant === "gpu" && !(Number(gpus) >= 1)) err("the gpu variant must limit nvidia.com/gpu to at least 1");
  if (variant === "cpu" && gpus !== undefined) err("the cpu variant must not ask for nvidia.com/gpu");
  if (gpus !== undefined) {
    if (String(server.resources?.requests?.["nvidia.com/gpu"] ?? gpus) !== String(gpus)) err("nvidia.com/gpu requests and limits must be equal");
    if (!pod.nodeSelector && !pod.affinity?.nodeAffinity) err("GPU pods must select GPU nodes (nodeSelector or node affinity)");
  }
  checkDockerfile(ctx, { port, metricsPort, models: flags.get("--models") }, errors);
}

const LOOPBACK = /^(127\.|localhost$|::1$|\[::1\]$)/;
const SECRET_FLAGS = ["--tls-cert", "--tls-key", "--tls-client-ca", "--auth-tokens"];

// The server's listening addresses, TLS, tokens and logs: what a pod reachable from the whole
// cluster needs.
function checkExposure(server, flags, pod, err) {
  const where = `container ${server.name}`;
  const host = flags.get("--host");
  // The default, loopback, would pass the exec probes (which ask 127.0.0.1) and refuse every client.
  if (host === undefined || LOOPBACK.test(host)) err(`${where}: --host must be 0.0.0.0 (or ::): the server listens on loopback by default, out of the Service's reach`);
  const metricsHost = flags.get("--metrics-host");
  if (Number(flags.get("--metrics-port")) >= 0 && (metricsHost === undefined || LOOPBACK.test(metricsHost))) {
    err(`${where}: --metrics-host must be 0.0.0.0 (or ::): /metrics listens on loopback by default, out of Prometheus' reach`);
  }
  for (const flag of ["--tls-cert", "--tls-key", "--auth-tokens"]) {
    if (!flags.get(flag)) err(`${where}: ${flag} must be given: the gRPC port is reachable from the cluster, so it serves TLS and asks for tokens`);
  }
  if (flags.get("--log-format") !== "json") err(`${where}: --log-format must be json (one object a line, for the cluster's log collector)`);
  for (const flag of SECRET_FLAGS) {
    if (flags.get(flag)) checkMountedFile(`${flag} ${flags.get(flag)}`, flags.get(flag), server, pod, err);
  }
}

// A file the server (or a probe) reads must lie in a mounted volume, mounted whole: with subPath
// kubelet never updates the file, so a rotated Secret would not reach the server.
function checkMountedFile(what, path, container, pod, err) {
  const mount = (container.volumeMounts ?? []).filter((m) => path.startsWith(m.mountPath.replace(/\/$/, "") + "/") || path === m.mountPath)
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return err(`container ${container.name}: ${what} is in no mounted volume`);
  if (mount.subPath || mount.subPathExpr) err(`container ${container.name}: ${what} is mounted with subPath, which never sees the Secret change: mount the folder`);
  if (!(pod.volumes ?? []).some((v) => v.name === mount.name)) err(`container ${container.name}: ${what} is in volume ${mount.name}, which the pod lacks`);
}

// What a probe asks: kubelet's gRPC probe, or `textclf health` run in the container.
function probeQuestion(probe) {
  if (probe.grpc) return { how: "grpc", port: probe.grpc.port, service: probe.grpc.service ?? "" };
  const command = probe.exec?.command ?? [];
  if (String(command[0]).split("/").pop() === "textclf" && command[1] === "health") {
    const flags = parseArgs(command.slice(2));
    return { how: "exec", flags, server: flags.get("--server"), service: flags.get("--service") ?? "" };
  }
  return { how: "other" };
}

function checkProbe(kind, probe, { port, flags, server, pod }, err) {
  const tls = !!flags.get("--tls-cert");
  const q = probeQuestion(probe);
  if (q.how === "grpc") {
    if (q.port !== port) err(`${kind} must be a gRPC health probe on --port ${port}`);
    if (tls) err(`${kind} is kubelet's gRPC probe, which speaks plaintext only and fails against --tls-cert: exec textclf health --tls-ca instead`);
  } else if (q.how === "exec") {
    if (!new RegExp(`^(127\\.0\\.0\\.1|localhost|\\[::1\\]):${port}$`).test(q.server ?? "")) {
      err(`${kind} must ask this pod's own port: textclf health --server=127.0.0.1:${port}`);
    }
    const ca = q.flags.get("--tls-ca");
    if (tls && !ca) err(`${kind}: the port serves TLS, so textclf health needs --tls-ca`);
    if (tls && !q.flags.get("--server-name")) err(`${kind}: textclf health needs --server-name, a name the certificate carries (it is not valid for 127.0.0.1)`);
    if (!tls && ca) err(`${kind}: textclf health --tls-ca against a port without --tls-cert fails the handshake`);
    if (ca) checkMountedFile(`${kind} --tls-ca ${ca}`, ca, server, pod, err);
    if (flags.get("--tls-client-ca")) {
      for (const f of ["--tls-cert", "--tls-key"]) {
        if (!q.flags.get(f)) err(`${kind}: with --tls-client-ca the server takes no connection without a client certificate: textclf health needs ${f}`);
        else checkMountedFile(`${kind} ${f} ${q.flags.get(f)}`, q.flags.get(f), server, pod, err);
      }
    }
    // kubelet kills the probe at timeoutSeconds (1 by default): the check's own deadline comes first.
    const deadline = Number(q.flags.get("--timeout") ?? 5);
    if (!(deadline < (probe.timeoutSeconds ?? 1))) err(`${kind}: textclf health --timeout (${deadline} s) must be shorter than timeoutSeconds (${probe.timeoutSeconds ?? 1})`);
  } else {
    return err(`${kind} must ask the server's grpc.health.v1 on --port ${port} (a gRPC probe, or exec textclf health)`);
  }
  if (!reportsHealth(q.service)) err(`${kind} asks about health service "${q.service}", which the server does not report`);
  // --strict-readiness keeps the overall status ("") NOT_SERVING while a wanted model is not
  // loaded, and a model's own entry is NOT_SERVING while it is not loaded. Readiness must ask the
  // overall status; startup and liveness neither, or a version that fails to load from the shared
  // volume would restart the pod forever.
  if (kind === "readinessProbe" && flags.has("--strict-readiness") && q.service !== "") {
    err(`readinessProbe asks about "${q.service}", but --strict-readiness turns only the overall status ("") NOT_SERVING`);
  }
  const modelBound = q.service.includes("/") || (q.service === "" && flags.has("--strict-readiness"));
  if (kind !== "readinessProbe" && modelBound) {
    err(`${kind} asks ${q.service === "" ? "the overall status" : `"${q.service}"`}, which fails while a model is not loaded: a restart cannot mend that; ask textclf.v1.Classifier`);
  }
}

function checkContainerBasics(doc, c, err) {
  for (const [where, key] of [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]) {
    if (c.resources?.[where]?.[key] === undefined) err(`container ${c.name} must set resources.${where}.${key}`);
  }
  if (c.securityContext?.readOnlyRootFilesystem !== true) err(`container ${c.name} must have a read-only root file system`);
  if (c.securityContext?.allowPrivilegeEscalation !== false) err(`container ${c.name} must set allowPrivilegeEscalation: false`);
}

function checkServerConfig(cm, key, ctx, errors) {
  let config;
  try {
    config = JSON.parse(cm.data[key]);
  } catch (e) {
    return errors.push(`${id(cm)}: ${key} is not JSON: ${e.message}`);
  }
  for (const field of Object.keys(config)) {
    if (!ctx.serverConfigFields.has(field)) errors.push(`${id(cm)}: ${key} sets "${field}", which textclf.v1.ServerConfig does not have`);
  }
}

function checkDockerfile(ctx, { port, metricsPort, models }, errors) {
  const text = (ctx.dockerfile ?? "").replace(/\\\n/g, " ");  // continuation lines joined
  const exposed = new Set([...text.matchAll(/^EXPOSE\s+(.+)$/gm)].flatMap((m) => m[1].split(/\s+/).map((p) => Number(p.split("/")[0]))));
  for (const p of [port, metricsPort]) if (!exposed.has(p)) errors.push(`Dockerfile: EXPOSE lacks port ${p}, which the manifests use`);
  const health = /^HEALTHCHECK\b.*$/m.exec(text)?.[0] ?? "";
  if (!/textclf"?,?\s*"?health/.test(health) || !health.includes(`:${port}`)) errors.push(`Dockerfile: HEALTHCHECK must run textclf health on port ${port}`);
  if (!new RegExp(`^VOLUME\\s+\\[?"?${models}"?\\]?`, "m").test(text)) errors.push(`Dockerfile: VOLUME must declare ${models}`);
  const user = /^USER\s+(\S+)/m.exec(text)?.[1];
  if (!user || /^(0|root)(:|$)/.test(user)) errors.push("Dockerfile: the runtime stage must switch to a non-root USER");
  // No image is built here: a COPY of a file missing from the repository would only fail there.
  for (const src of dockerCopySources(text)) {
    if (ctx.exists && !ctx.exists(src)) errors.push(`Dockerfile: COPY ${src}, which is not in the repository`);
  }
}

// The build-context sources of the Dockerfile's COPY instructions (not those --from a stage).
export function dockerCopySources(text) {
  const sources = [];
  for (const m of text.replace(/\\\n/g, " ").matchAll(/^COPY\s+(.+)$/gm)) {
    const words = m[1].trim().split(/\s+/);
    if (words.some((w) => w.startsWith("--from="))) continue;
    const paths = words.filter((w) => !w.startsWith("--"));
    sources.push(...paths.slice(0, -1));
  }
  return sources;
}

// The programs the image puts on PATH: what its COPY instructions bring into /usr/local/bin.
function imagePrograms(text) {
  const programs = new Set();
  for (const m of text.replace(/\\\n/g, " ").matchAll(/^COPY\s+(.+)$/gm)) {
    const paths = m[1].trim().split(/\s+/).filter((w) => !w.startsWith("--"));
    if (paths.length < 2 || !paths[paths.length - 1].startsWith("/usr/local/bin")) continue;
    for (const p of paths.slice(0, -1)) programs.add(p.split("/").pop());
  }
  return programs;
}

function checkService(s, docs, errors) {
  const err = (msg) => errors.push(`${id(s)}: ${msg}`);
  const targets = docs.filter((d) => d.kind === "Deployment" && selects(s.spec?.selector, d.spec?.template?.metadata?.labels));
  if (targets.length === 0) return err("its selector matches no Deployment's pods");
  for (const p of s.spec?.ports ?? []) {
    for (const d of targets) {
      const ports = (d.spec.template.spec.containers ?? []).flatMap((c) => c.ports ?? []);
      const target = ports.find((cp) => (typeof p.targetPort === "string" ? cp.name === p.targetPort : cp.containerPort === (p.targetPort ?? p.port)));
      if (!target) err(`port ${p.name} targets ${p.targetPort}, which ${id(d)} does not expose`);
      else if (target.containerPort !== p.port) err(`port ${p.name} is ${p.port} but reaches container port ${target.containerPort}: keep them equal so addresses read the same everywhere`);
    }
    if (p.name === "grpc" && s.spec?.clusterIP !== "None") err("the gRPC service must be headless (clusterIP: None) for client-side load balancing");
  }
}

function checkSelectsPods(doc, docs, errors) {
  if (!docs.some((d) => d.kind === "Deployment" && selects(doc.spec?.selector?.matchLabels, d.spec?.template?.metadata?.labels))) {
    errors.push(`${id(doc)}: its selector matches no Deployment's pods`);
  }
}

// The serving pods admit gRPC only from labelled client pods and /metrics only from a namespace
// picked by label (Prometheus'): a rule without `from` or `ports` admits anyone, or any port.
function checkNetworkPolicy(np, docs, errors) {
  const err = (msg) => errors.push(`${id(np)}: ${msg}`);
  const targets = docs.filter((d) => d.kind === "Deployment" && selects(np.spec?.podSelector?.matchLabels, d.spec?.template?.metadata?.labels));
  if (targets.length === 0) return err("its podSelector matches no Deployment's pods");
  if (!(np.spec?.policyTypes ?? ["Ingress"]).includes("Ingress")) err("must restrict Ingress");
  const ports = targets.flatMap((d) => (d.spec.template.spec.containers ?? []).flatMap((c) => c.ports ?? []));
  const portName = (p) => (typeof p === "string" ? ports.find((cp) => cp.name === p) : ports.find((cp) => cp.containerPort === p))?.name;
  const admitted = new Set();
  for (const [i, rule] of (np.spec?.ingress ?? []).entries()) {
    const peers = rule.from ?? [];
    if (peers.length === 0) err(`ingress rule ${i} has no "from": it admits every pod and address`);
    if (!(rule.ports ?? []).length) err(`ingress rule ${i} has no "ports": it admits every port`);
    for (const p of rule.ports ?? []) {
      const name = portName(p.port);
      if (!name) { err(`ingress rule ${i} admits port ${p.port}, which the pods do not expose`); continue; }
      admitted.add(name);
      const labelled = (sel) => Object.keys(sel?.matchLabels ?? {}).length > 0 || (sel?.matchExpressions ?? []).length > 0;
      if (name === "grpc" && !peers.every((peer) => labelled(peer.podSelector))) {
        err(`ingress rule ${i} admits the gRPC port from peers other than labelled client pods (a podSelector with labels)`);
      }
      if (name === "metrics" && !peers.every((peer) => labelled(peer.namespaceSelector))) {
        err(`ingress rule ${i} admits /metrics from peers other than a namespace picked by label (Prometheus')`);
      }
    }
  }
  for (const name of ["grpc", "metrics"]) if (!admitted.has(name)) err(`no ingress rule admits the ${name} port: ${name === "grpc" ? "clients" : "Prometheus"} could not reach it`);
}

function checkHpa(h, ctx, docs, errors) {
  const err = (msg) => errors.push(`${id(h)}: ${msg}`);
  const ref = h.spec?.scaleTargetRef ?? {};
  const target = docs.find((d) => d.kind === ref.kind && d.metadata.name === ref.name);
  if (!target) err(`scaleTargetRef ${ref.kind}/${ref.name} is not among the manifests`);
  if (!(h.spec?.minReplicas >= 1 && h.spec.minReplicas <= h.spec.maxReplicas)) err("needs 1 <= minReplicas <= maxReplicas");
  const metrics = h.spec?.metrics ?? [];
  if (!metrics.some((m) => m.type === "Resource" && m.resource?.name === "cpu")) err("must scale on CPU");
  const pods = metrics.filter((m) => m.type === "Pods");
  if (pods.length === 0) err("must scale on queue time (a Pods metric from Prometheus)");
  const served = new Map((ctx.adapter?.rules?.custom ?? []).map((r) => [r.name?.as, r]));
  for (const m of pods) {
    const rule = served.get(m.pods?.metric?.name);
    if (!rule) { err(`Pods metric ${m.pods?.metric?.name} is not defined by deploy/k8s/monitoring/prometheus-adapter-rules.yaml`); continue; }
    for (const name of metricNamesIn(rule.seriesQuery)) {
      if (!ctx.metrics.has(name)) err(`the adapter rule for ${m.pods.metric.name} reads ${name}, which the server does not export`);
    }
  }
}

function checkServiceMonitor(sm, docs, errors) {
  const err = (msg) => errors.push(`${id(sm)}: ${msg}`);
  const services = docs.filter((d) => d.kind === "Service" && selects(sm.spec?.selector?.matchLabels, d.metadata?.labels));
  if (services.length !== 1) return err(`its selector must match exactly one Service (matches ${services.length})`);
  for (const e of sm.spec?.endpoints ?? []) {
    if (!(services[0].spec.ports ?? []).some((p) => p.name === e.port)) err(`endpoint port ${e.port} is not a port of ${id(services[0])}`);
  }
  return services[0];
}

// The metric names in `exprs` the server does not export, and whether each job="..." matcher
// names the scraped service.
function checkExpressions(where, exprs, ctx, job, errors) {
  for (const expr of exprs) {
    for (const name of metricNamesIn(expr)) {
      if (!ctx.metrics.has(name)) errors.push(`${where}: ${name} is not a metric the server exports`);
    }
    for (const m of String(expr).matchAll(/\bjob="([^"]*)"/g)) {
      if (job && m[1] !== job) errors.push(`${where}: selects job="${m[1]}", but the scraped service is ${job}`);
    }
  }
}

// kube-prometheus-stack's Prometheus selects ServiceMonitors and PrometheusRules by the label
// `release`: without it both are silently ignored, and with two values one of them is.
function checkOperatorLabels(objects, errors) {
  const releases = new Set();
  for (const o of objects) {
    const release = o.metadata?.labels?.release;
    if (!release) errors.push(`${id(o)}: needs the label release (the prometheus-operator's selector; deploy/README.md)`);
    else releases.add(release);
  }
  if (releases.size > 1) errors.push(`the ServiceMonitor and PrometheusRule carry different release labels (${[...releases].join(", ")}): one Prometheus selects only one`);
}

// The matchers of each `metric{...}` selector in an expression.
export function selectorsOf(expr, metric) {
  const found = [];
  for (const m of String(expr).matchAll(new RegExp(`\\b${metric}\\{([^}]*)\\}`, "g"))) {
    found.push([...m[1].matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => ({ label, op, value })));
  }
  return found;
}

// Whether a selector's matchers on `label` accept `value` (PromQL regexes are anchored).
export function matchesLabel(matchers, label, value) {
  return matchers.filter((m) => m.label === label).every(({ op, value: v }) =>
    op === "=" ? value === v : op === "!=" ? value !== v : op === "=~" ? new RegExp(`^(?:${v})$`).test(value) : !new RegExp(`^(?:${v})$`).test(value));
}

// An error ratio: failed requests of textclf_requests_total over all of them, where the failures
// include load shedding (RESOURCE_EXHAUSTED, refused before the queue) and not OK.
function isErrorRatio(expr) {
  const [failed, ...rest] = selectorsOf(expr, "textclf_requests_total");
  return !!failed && rest.length > 0 && /\//.test(expr) &&
    matchesLabel(failed, "code", "RESOURCE_EXHAUSTED") && !matchesLabel(failed, "code", "OK");
}

const REQUIRED_ALERTS = [
  ["p99 latency", /histogram_quantile\(0\.99,[\s\S]*textclf_request_duration_seconds_bucket/],
  ["the error ratio, load shedding (RESOURCE_EXHAUSTED) included", isErrorRatio],
  ["a model that failed to load", /textclf_model_state\{[^}]*state="failed"/],
  ["a model not loaded", /textclf_model_state\{[^}]*state="loaded"/],
  ["online accuracy", /textclf_online_accuracy/],
  ["ECE", /textclf_model_ece/],
];

function checkRules(rule, ctx, job, errors) {
  const alerts = (rule.spec?.groups ?? []).flatMap((g) => g.rules ?? []).filter((r) => r.alert);
  for (const a of alerts) {
    const where = `${id(rule)} alert ${a.alert}`;
    if (!a.for) errors.push(`${where}: needs a "for" duration`);
    if (!a.labels?.severity) errors.push(`${where}: needs a severity label`);
    if (!a.annotations?.summary) errors.push(`${where}: needs a summary annotation`);
    checkExpressions(where, [a.expr], ctx, job, errors);
    // textclf_model_loaded reads 0 for a version unloaded on purpose (and, before the server
    // removed them, for deleted ones): an alert on it pages for what an operator did.
    if (/textclf_model_loaded/.test(a.expr)) errors.push(`${where}: textclf_model_loaded is 0 for versions unloaded on purpose; alert on textclf_model_state (state="failed", or none "loaded")`);
  }
  for (const [what, test] of REQUIRED_ALERTS) {
    const matches = typeof test === "function" ? test : (expr) => test.test(expr);
    if (!alerts.some((a) => matches(a.expr))) errors.push(`${id(rule)}: no alert on ${what}`);
  }
}

const REQUIRED_PANELS = [
  ["latency quantiles", /histogram_quantile\(0\.99,[\s\S]*textclf_request_duration_seconds_bucket/],
  ["throughput", /rate\(textclf_requests_total/],
  ["the error ratio, load shedding (RESOURCE_EXHAUSTED) included", isErrorRatio],
  ["model states", /textclf_model_state\{/],
  ["the builds running", /textclf_build_info\{/],
  ["process memory", /process_resident_memory_bytes\{/],
  ["batch size", /textclf_batch_size_/],
  ["queue time", /textclf_queue_duration_seconds_bucket/],
  ["accuracy per model", /textclf_model_accuracy/],
  ["ECE per model", /textclf_model_ece/],
];

function checkDashboard(cm, key, ctx, job, errors) {
  const where = `${id(cm)} ${key}`;
  let dash;
  try {
    dash = JSON.parse(cm.data[key]);
  } catch (e) {
    return errors.push(`${where}: not JSON: ${e.message}`);
  }
  const panels = dash.panels ?? [];
  if (!dash.uid || !dash.title || panels.length === 0) errors.push(`${where}: a dashboard needs a uid, a title and panels`);
  const ids = panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) errors.push(`${where}: panel ids repeat`);
  const exprs = [];
  for (const p of panels) {
    if (!(p.targets ?? []).length) errors.push(`${where}: panel "${p.title}" has no query`);
    exprs.push(...(p.targets ?? []).map((t) => t.expr));
  }
  // A single-value panel over no series shows "No data", which reads as broken when the truth is
  // 0 (no replica up, no version failed): its queries fall back with `or vector(0)` (or a
  // label_replace of it) or ask absent().
  for (const p of panels.filter((x) => x.type === "stat")) {
    for (const t of p.targets ?? []) {
      if (!/\bor\s+(vector|label_replace)\(|\babsent\(/.test(t.expr ?? "")) errors.push(`${where}: stat panel "${p.title}" shows "No data" when its series are missing: add "or vector(0)"`);
    }
  }
  for (const [what, test] of REQUIRED_PANELS) {
    const matches = typeof test === "function" ? test : (expr) => test.test(expr);
    if (!exprs.some((e) => matches(e))) errors.push(`${where}: no panel shows ${what}`);
  }
  exprs.push(...(dash.templating?.list ?? []).map((v) => v.definition ?? "").filter(Boolean));
  checkExpressions(where, exprs, ctx, job, errors);
}

function checkJob(j, ctx, docs, errors) {
  const err = (msg) => errors.push(`${id(j)}: ${msg}`);
  const pod = j.spec?.template?.spec ?? {};
  if (!["Never", "OnFailure"].includes(pod.restartPolicy)) err("restartPolicy must be Never or OnFailure");
  if (pod.securityContext?.runAsNonRoot !== true) err("the pod must set securityContext.runAsNonRoot: true");
  const programs = imagePrograms(ctx.dockerfile ?? "");
  for (const c of pod.containers ?? []) {
    checkContainerBasics(j, c, err);
    const program = c.command?.[0];
    if (program && ctx.dockerfile && !programs.has(program)) err(`container ${c.name} runs ${program}, which the Dockerfile does not install in /usr/local/bin`);
    const models = (c.env ?? []).find((e) => e.name === "TEXTCLF_MODELS")?.value ?? "/models";
    const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === models);
    const claim = (pod.volumes ?? []).find((v) => v.name === mount?.name)?.persistentVolumeClaim?.claimName;
    const servers = docs.filter((d) => d.kind === "Deployment");
    const shared = servers.some((d) => (d.spec.template.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim));
    if (!claim || !shared) err(`container ${c.name} must publish into the serving replicas' model volume at ${models}`);
    const readOnly = mount?.readOnly === true || (pod.volumes ?? []).find((v) => v.name === mount?.name)?.persistentVolumeClaim?.readOnly === true;
    if (claim && readOnly) err(`container ${c.name} mounts the model volume read-only, but the Job is the one that publishes`);
  }
}

// Every rule above over one rendered overlay. `ctx` comes from sources.mjs (defaultContext).
export function conventionErrors(docs, ctx) {
  const errors = [];
  const of = (kind) => docs.filter((d) => d.kind === kind);
  for (const d of docs) {
    if (d.kind !== "ConfigMap" && d.metadata?.labels?.["app.kubernetes.io/name"] !== "textclf") {
      errors.push(`${id(d)}: needs the label app.kubernetes.io/name: textclf`);
    }
  }
  if (of("Deployment").length === 0) errors.push("no Deployment");
  for (const d of of("Deployment")) checkDeployment(d, ctx, docs, errors);
  for (const s of of("Service")) checkService(s, docs, errors);
  const grpc = of("Service").filter((s) => (s.spec?.ports ?? []).some((p) => p.name === "grpc"));
  if (grpc.length === 0) errors.push("no Service with a port named grpc");
  for (const p of of("PodDisruptionBudget")) checkSelectsPods(p, docs, errors);
  if (of("PodDisruptionBudget").length === 0) errors.push("no PodDisruptionBudget");
  for (const np of of("NetworkPolicy")) checkNetworkPolicy(np, docs, errors);
  if (of("NetworkPolicy").length === 0) errors.push("no NetworkPolicy: every pod in the cluster could reach the replicas");
  for (const h of of("HorizontalPodAutoscaler")) checkHpa(h, ctx, docs, errors);
  if (of("HorizontalPodAutoscaler").length === 0) errors.push("no HorizontalPodAutoscaler");
  let job;
  for (const sm of of("ServiceMonitor")) job = checkServiceMonitor(sm, docs, errors)?.metadata?.name;
  if (of("ServiceMonitor").length === 0) errors.push("no ServiceMonitor");
  for (const r of of("PrometheusRule")) checkRules(r, ctx, job, errors);
  if (of("PrometheusRule").length === 0) errors.push("no PrometheusRule");
  checkOperatorLabels([...of("ServiceMonitor"), ...of("PrometheusRule")], errors);
  let dashboards = 0;
  for (const cm of of("ConfigMap")) {
    for (const key of Object.keys(cm.data ?? {})) {
      if (key.endsWith("dashboard.json")) { dashboards++; checkDashboard(cm, key, ctx, job, errors); }
    }
    if (Object.keys(cm.data ?? {}).some((k) => k.endsWith("dashboard.json")) && cm.metadata?.labels?.grafana_dashboard === undefined) {
      errors.push(`${id(cm)}: needs the label grafana_dashboard, which Grafana's dashboard sidecar looks for`);
    }
  }
  if (dashboards === 0) errors.push("no Grafana dashboard ConfigMap (a key ending in dashboard.json)");
  for (const j of of("Job")) checkJob(j, ctx, docs, errors);
  if (of("Job").length === 0) errors.push("no training Job");
  return errors;
}
