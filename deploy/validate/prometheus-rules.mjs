// Writes what promtool checks and unit-tests from a rendered overlay (scripts/validate-manifests):
//   node validate/prometheus-rules.mjs RENDERED.yaml DIR
// DIR/rules.yaml: the groups of its PrometheusRule, exactly what the operator gives Prometheus.
// DIR/dashboard.rules.yaml: every query of its Grafana dashboards as a recording rule named
// textclf_dashboard:panel_ID_REFID, Grafana's variables replaced by what they stand for (all
// models, a 5-minute rate window), so that promtool parses each query and the unit tests can
// evaluate the panels, their fallbacks for missing series included.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";

if (process.argv.length !== 4) {
  console.error("usage: node validate/prometheus-rules.mjs RENDERED.yaml DIR");
  process.exit(2);
}
const [rendered, dir] = process.argv.slice(2);
const docs = YAML.parseAllDocuments(readFileSync(rendered, "utf8")).map((d) => d.toJS()).filter(Boolean);
const rules = docs.filter((d) => d.kind === "PrometheusRule");
if (rules.length !== 1) {
  console.error(`prometheus-rules: expected one PrometheusRule in ${rendered}, found ${rules.length}`);
  process.exit(1);
}

const GRAFANA_VARIABLES = [[/\$__rate_interval/g, "5m"], [/\$\{?model\}?/g, ".+"]];
const recorded = [];
for (const cm of docs.filter((d) => d.kind === "ConfigMap")) {
  for (const [key, text] of Object.entries(cm.data ?? {})) {
    if (!key.endsWith("dashboard.json")) continue;
    for (const panel of JSON.parse(text).panels ?? []) {
      for (const t of panel.targets ?? []) {
        const expr = GRAFANA_VARIABLES.reduce((e, [from, to]) => e.replace(from, to), t.expr);
        recorded.push({ record: `textclf_dashboard:panel_${panel.id}_${t.refId}`, expr });
      }
    }
  }
}

mkdirSync(dir, { recursive: true });
const yaml = (value) => YAML.stringify(value, { lineWidth: 0 });
writeFileSync(join(dir, "rules.yaml"), yaml({ groups: rules[0].spec.groups }));
writeFileSync(join(dir, "dashboard.rules.yaml"), yaml({ groups: [{ name: "textclf.dashboard", rules: recorded }] }));
