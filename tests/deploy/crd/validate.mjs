// Validate the chart's custom resources against the schemas generated from their operators' CRDs.
//   node validate.mjs rendered.json     # a JSON array of objects; prints one verdict per object as JSON
// Run by tests/deploy/test_chart.py after `npm ci` in this folder (package-lock.json pins the versions).
import { readFileSync } from "node:fs";

const PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "keda.sh": "@kubernetes-models/keda",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
const verdicts = [];
for (const obj of objects) {
  const [group, version] = obj.apiVersion.split("/");
  const entry = { kind: obj.kind, apiVersion: obj.apiVersion, name: obj.metadata?.name, verdict: "valid", error: null };
  const pkg = PACKAGES[group];
  if (!pkg) {
    entry.verdict = "no-schema";
  } else {
    try {
      const module = await import(`${pkg}/${group}/${version}/${obj.kind}`);
      new module[obj.kind](obj).validate();
    } catch (error) {
      entry.verdict = error.code === "ERR_MODULE_NOT_FOUND" ? "no-schema" : "invalid";
      entry.error = String(error.message ?? error);
    }
  }
  verdicts.push(entry);
}
console.log(JSON.stringify(verdicts));
