#!/usr/bin/env node
// Real-data checks of the web pack (rules/web.vigil and the rest of rules/), on the files in
// ../shared/data/web (not part of a user's clone: skipped, with a note, where absent). Reads the
// files in place; copies nothing (see their SOURCE.md for licences).
//
// 1. Access logs (--format access): per-rule alert counts (and hits = alerts + suppressed).
//    Asserts: the w3af scan is detected by the scanner rule and by the injection rules; the
//    benign sample (elastic_apache_logs_first1000.log) raises no high- or critical-severity alert.
// 2. HttpParamsDataset_payload_test.csv (labelled parameter values): each value is put in a
//    request's query string (`/search?q=<value>`, decoded as the access-log parser decodes it)
//    and run through the injection rules; prints the detection rate per attack class and the
//    false-positive rate on the normal class.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.VIGIL_SHARED_DATA ?? join(root, "../shared/data");
const web = join(shared, "web");
if (!existsSync(web)) {
  console.log(`skipped: ${web} not found (the real-data checks need ../shared/data)`);
  process.exit(0);
}
if (!existsSync(join(root, "dist/cli/main.js"))) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });

const { loadPack } = await import(join(root, "dist/dsl/index.js"));
const { Engine } = await import(join(root, "dist/engine/index.js"));
const { collectPackFiles } = await import(join(root, "dist/cli/pack-files.js"));
const { loadPolicyFile } = await import(join(root, "dist/cli/policy.js"));
const { readLogEvents } = await import(join(root, "dist/connectors/sources/log-file.js"));
const { percentDecode } = await import(join(root, "dist/connectors/parsers/access-log.js"));

let failed = 0;
let passed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail === "" ? "" : `\n     ${detail.replace(/\n/g, "\n     ")}`}`);
}

const pack = loadPack(collectPackFiles([join(root, "rules")]), { params: loadPolicyFile(join(root, "config/security-policies.yaml")) });
const errors = pack.diagnostics.filter((d) => d.severity === "error");
check("the shipped pack loads without errors", errors.length === 0, errors.map((d) => d.message).join("\n"));

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log("  " + r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  "));
}

// ---- 1. access logs ---------------------------------------------------------------------
const files = ["ocatak_w3af_scan_access.log", "elastic_apache_logs_first1000.log", "honeynet_redhat_access_log.1", "honeynet_redhat_access_log.19"];
const results = new Map();
for (const f of files) {
  const alerts = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a) });
  const stats = { lines: 0, events: 0, failures: new Map() };
  await readLogEvents(join(web, f), { format: "access" }, 0, (ev) => engine.process(ev), () => undefined, stats);
  engine.finish();
  results.set(f, { alerts, stats });
  check(`${f}: every line decodes (${stats.events} events)`, stats.failures.size === 0, [...stats.failures].map(([r, n]) => `${r} ${n}`).join(", "));
}
const ruleNames = [...new Set([...results.values()].flatMap((r) => r.alerts.map((a) => a.rule)))].sort();
console.log("\nalerts per rule (hits, counting suppressed ones, in brackets)");
table([
  ["rule", ...files.map((f) => f.replace(/_access_log|_first1000|\.log/g, ""))],
  ...ruleNames.map((r) => [
    r,
    ...files.map((f) => {
      const as = results.get(f).alerts.filter((a) => a.rule === r);
      return as.length === 0 ? "-" : `${as.length} (${as.reduce((s, a) => s + 1 + a.suppressed, 0)})`;
    }),
  ]),
]);
console.log("");
const w3af = results.get("ocatak_w3af_scan_access.log").alerts;
const by = (rule) => w3af.filter((a) => a.rule === rule).length;
check("w3af scan: detected by the scanner rule", by("web_scanner_user_agent") > 0);
check("w3af scan: detected by the SQL injection rule", by("web_sql_injection") > 0);
check("w3af scan: detected by the XSS rule", by("web_xss") > 0);
const benignHigh = results.get("elastic_apache_logs_first1000.log").alerts.filter((a) => a.severity === "high" || a.severity === "critical");
check("benign sample: no high- or critical-severity alert", benignHigh.length === 0, benignHigh.map((a) => `${a.rule} ${JSON.stringify(a.keys)} ${a.evidence.event_ids[0]}`).join("\n"));

// ---- 2. HttpParamsDataset -------------------------------------------------------------------
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') (cur += '"'), i++;
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ",") row.push(cur), (cur = "");
    else if (c === "\n") row.push(cur), rows.push(row), (row = []), (cur = "");
    else if (c !== "\r") cur += c;
  }
  if (cur !== "" || row.length > 0) row.push(cur), rows.push(row);
  return rows;
}
const csv = parseCsv(readFileSync(join(web, "HttpParamsDataset_payload_test.csv"), "utf8"));
const header = csv.shift();
const [iPayload, iClass] = [header.indexOf("payload"), header.indexOf("attack_type")];
const injection = ["web_sql_injection", "web_xss", "web_path_traversal", "web_command_injection"];
const injPack = { ...pack, rules: pack.rules.filter((r) => injection.includes(r.name)) };
const fired = new Map(); // row index → set of rules
const engine = new Engine(injPack, { onAlert: (a) => fired.set(a.evidence.event_ids[0], (fired.get(a.evidence.event_ids[0]) ?? new Set()).add(a.rule)) });
const t0 = Date.parse("2024-05-06T10:00:00Z");
csv.forEach((r, i) => {
  const payload = r[iPayload] ?? "";
  const raw = `q=${encodeURIComponent(payload)}`;
  const id = `row${i + 2}`;
  // A distinct address per row: suppression (per address) must not hide a row's own result.
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  engine.process({
    id,
    ts: t0 + i,
    seq: i,
    fields: { "@timestamp": new Date(t0 + i).toISOString(), "event.id": id, "event.category": ["web"], "source.ip": ip, "url.original": `/search?${raw}`, "url.path": "/search", "url.query": percentDecode(raw, true) },
  });
});
engine.finish();
const classes = ["sqli", "xss", "path-traversal", "cmdi", "norm"];
const ruleOf = { sqli: "web_sql_injection", xss: "web_xss", "path-traversal": "web_path_traversal", cmdi: "web_command_injection" };
const rows = [["class", "rows", "own rule", "any injection rule", ...injection.map((r) => r.replace("web_", ""))]];
const rate = (n, d) => (d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`);
const summary = {};
for (const cls of classes) {
  const idx = csv.map((r, i) => [r, i]).filter(([r]) => r[iClass] === cls).map(([, i]) => `row${i + 2}`);
  const any = idx.filter((id) => fired.has(id)).length;
  const own = cls === "norm" ? "-" : rate(idx.filter((id) => fired.get(id)?.has(ruleOf[cls])).length, idx.length);
  summary[cls] = { rows: idx.length, any: any / idx.length };
  rows.push([cls, idx.length, own, rate(any, idx.length), ...injection.map((r) => rate(idx.filter((id) => fired.get(id)?.has(r)).length, idx.length))]);
}
console.log("\nHttpParamsDataset_payload_test.csv: detection rate per attack class; on norm, the false-positive rate");
table(rows);
console.log("");
check("HttpParams: false-positive rate on the normal class below 2%", summary.norm.any < 0.02, `${(summary.norm.any * 100).toFixed(2)}%`);
check("HttpParams: detection rate above 80% on every attack class", ["sqli", "xss", "path-traversal", "cmdi"].every((c) => summary[c].any > 0.8), JSON.stringify(summary));

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
