// Writes the groups of a rendered overlay's PrometheusRule as a Prometheus rule file, which
// promtool can check and unit-test (scripts/validate-manifests):
//   node validate/prometheus-rules.mjs RENDERED.yaml > rules.yaml
// The operator loads exactly these groups, so testing them tests what Prometheus will evaluate.
import { readFileSync } from "node:fs";
import YAML from "yaml";

if (process.argv.length !== 3) {
  console.error("usage: node validate/prometheus-rules.mjs RENDERED.yaml");
  process.exit(2);
}
const rules = YAML.parseAllDocuments(readFileSync(process.argv[2], "utf8"))
  .map((d) => d.toJS())
  .filter((d) => d?.kind === "PrometheusRule");
if (rules.length !== 1) {
  console.error(`prometheus-rules: expected one PrometheusRule in ${process.argv[2]}, found ${rules.length}`);
  process.exit(1);
}
process.stdout.write(YAML.stringify({ groups: rules[0].spec.groups }, { lineWidth: 0 }));
