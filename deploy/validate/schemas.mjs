// Schema validation of rendered manifests with the published Kubernetes and prometheus-operator
// models (kubernetes-models, @kubernetes-models/prometheus-operator): every document must map to
// a known model, and that model's JSON schema must accept it.

// apiVersion "group/version" (or "v1" for the core group) and kind -> the module exporting its model.
function modulePath(apiVersion, kind) {
  if (!/^[A-Za-z0-9]+$/.test(kind ?? "")) return null;
  if (apiVersion === "v1") return `kubernetes-models/v1/${kind}`;
  const [group, version, extra] = String(apiVersion ?? "").split("/");
  if (!group || !version || extra !== undefined) return null;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

// Returns the schema errors of one document ([] when valid), each "Kind/name: message".
export async function schemaErrors(doc) {
  const where = `${doc?.kind ?? "?"}/${doc?.metadata?.name ?? "?"}`;
  const path = modulePath(doc?.apiVersion, doc?.kind);
  if (path === null) return [`${where}: apiVersion "${doc?.apiVersion}" with kind "${doc?.kind}" is not a Kubernetes type`];
  let Model;
  try {
    Model = (await import(path))[doc.kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== "function") return [`${where}: no schema for ${doc.apiVersion} ${doc.kind} (unknown type or version)`];
  try {
    new Model(doc).validate();
    return [];
  } catch (e) {
    return [`${where}: ${e.message}`];
  }
}
