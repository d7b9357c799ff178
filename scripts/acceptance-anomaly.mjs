#!/usr/bin/env node
// Real-data acceptance checks of the anomaly models (issue 8). Needs ../shared/data/odds
// (VIGIL_SHARED_DATA overrides ../shared/data; skipped, with a note, where it is absent), the
// built CLI, and /usr/bin/python3 with scikit-learn (the check fails, saying so, without it).
//
// For each ODDS table: `vigil anomaly eval FILE --impl native --seeds N --json` and
// scikit-learn's IsolationForest (bench/external/sklearn_iforest.py, random_state 1…N), both
// 100 trees, ψ = 256, fit on the whole table, scoring every row. Goal: the native mean AUC
// within 0.02 of scikit-learn's on every table. N = 5 seeds here (VIGIL_ANOMALY_SEEDS), not
// the 10 of `npm run bench -- anomaly-eval`, to stay within a couple of minutes on 2 cores
// (scikit-learn scores ~15,000 points/s; smtp has 95,156 rows). The ml-isolation-forest
// adapter is not run here (it takes minutes per run on the large tables): see the bench.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.VIGIL_SHARED_DATA ?? join(root, "../shared/data");
const odds = join(shared, "odds");
const seeds = Number(process.env.VIGIL_ANOMALY_SEEDS ?? 5);
const PY = "/usr/bin/python3";
let failed = 0;
let passed = 0;

function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail === "" ? "" : `\n     ${detail}`}`);
}

if (!existsSync(odds)) {
  console.log(`skipped: ${odds} not found (the anomaly checks need ../shared/data/odds)`);
  process.exit(0);
}
if (!existsSync(join(root, "dist/cli/main.js"))) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });

const haveSk = existsSync(PY) && spawnSync(PY, ["-c", "import sklearn"]).status === 0;
if (!haveSk) check(`${PY} can import sklearn (apt-get install python3-sklearn)`, false);
else {
  for (const f of readdirSync(odds).filter((x) => x.endsWith(".csv")).sort()) {
    const file = join(odds, f);
    const v = spawnSync(process.execPath, [join(root, "bin/vigil.js"), "anomaly", "eval", file, "--impl", "native", "--seeds", String(seeds), "--json"], { encoding: "utf8" });
    if (v.status !== 0) {
      check(`${f}: vigil anomaly eval runs`, false, v.stderr.trim());
      continue;
    }
    const native = JSON.parse(v.stdout).native;
    const s = spawnSync(PY, [join(root, "bench/external/sklearn_iforest.py"), "eval", file, "--seeds", String(seeds)], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    });
    if (s.status !== 0) {
      check(`${f}: scikit-learn runs`, false, s.stderr.trim().split("\n").pop());
      continue;
    }
    const sk = JSON.parse(s.stdout);
    const gap = native.auc_mean - sk.auc_mean;
    check(
      `${f}: native AUC within 0.02 of scikit-learn (${seeds} seeds)`,
      Math.abs(gap) <= 0.02,
      `native ${native.auc_mean.toFixed(4)} ± ${native.auc_sd.toFixed(4)}, scikit-learn ${sk.auc_mean.toFixed(4)} ± ${sk.auc_sd.toFixed(4)}, gap ${gap.toFixed(4)}`,
    );
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
