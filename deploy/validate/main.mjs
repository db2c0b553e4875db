// Validates rendered overlays: node validate/main.mjs cpu=.rendered/cpu.yaml gpu=.rendered/gpu.yaml
// Every document against its Kubernetes or prometheus-operator schema, then our conventions.
// Exit 0 when all pass, 1 with every problem listed otherwise, 2 on bad usage.
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { conventionErrors } from "./conventions.mjs";
import { schemaErrors } from "./schemas.mjs";
import { defaultContext } from "./sources.mjs";

const overlays = process.argv.slice(2).map((a) => a.split("="));
if (overlays.length === 0 || overlays.some((o) => o.length !== 2)) {
  console.error("usage: node validate/main.mjs NAME=RENDERED.yaml...");
  process.exit(2);
}

const ctx = defaultContext();
if (ctx.announced.size > 0) {
  console.log(`note: accepting metrics announced but not yet registered in server/metrics/: ${[...ctx.announced].join(", ")}`);
}
let failed = 0;
for (const [name, path] of overlays) {
  const docs = YAML.parseAllDocuments(readFileSync(path, "utf8"));
  const errors = docs.flatMap((d) => d.errors.map((e) => `YAML: ${e.message}`));
  const objects = docs.map((d) => d.toJS()).filter((d) => d !== null);
  for (const doc of objects) errors.push(...(await schemaErrors(doc)));
  errors.push(...conventionErrors(objects, ctx));
  const kinds = [...new Set(objects.map((d) => d.kind))].sort().join(", ");
  if (errors.length === 0) {
    console.log(`${name}: ${objects.length} documents valid (${kinds})`);
  } else {
    failed++;
    console.log(`${name}: ${errors.length} problem(s) in ${objects.length} documents:`);
    for (const e of errors) console.log(`  - ${e}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
