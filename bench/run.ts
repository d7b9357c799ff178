/**
 * `npm run bench [-- SUITE... ] [--lines N] [--skip-fail2ban]`: runs the benchmarks and prints
 * a table per suite. Suites: replay, language (`--lang-events N`, `--lang-rules N`), engine,
 * jetstream (`--js-events N`, `--rate N`, `--seconds N`; needs the NATS server), store
 * (`--store-alerts N`), anomaly (`--anomaly-rows N`); anomaly-eval only when named (`--seeds N`,
 * `--adapter-runs-large N`, `--skip-adapter`, `--odds DIR`); nab only when named (`--nab DIR`,
 * `--nab-threshold X`). Numbers
 * are ratios against a baseline measured in the same run.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchAnomaly } from "./anomaly.js";
import { benchAnomalyEval } from "./anomaly-eval.js";
import { benchEngine } from "./engine.js";
import { benchJetStream } from "./jetstream.js";
import { benchNab } from "./nab.js";
import { benchLanguage } from "./language.js";
import { benchReplay } from "./replay.js";
import { benchResponse } from "./response.js";
import { benchStore } from "./store.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i === -1 ? def : Number(args[i + 1]);
};
const valueFlags = ["--lines", "--events", "--lang-events", "--lang-rules", "--js-events", "--rate", "--seconds", "--store-alerts", "--anomaly-rows", "--seeds", "--adapter-runs-large", "--odds", "--nab", "--nab-threshold", "--actions"];
const suites = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && valueFlags.includes(args[i - 1] ?? "")));
const all = suites.length === 0;

if (all || suites.includes("replay")) await benchReplay(root, { lines: value("--lines", 1_000_000), skipFail2ban: flag("--skip-fail2ban") });
if (all || suites.includes("language")) {
  const ok = await benchLanguage({ events: value("--lang-events", 200_000), rules: value("--lang-rules", 1_000) });
  if (!ok) process.exitCode = 1;
}
if (all || suites.includes("engine")) await benchEngine({ events: value("--events", 1_000_000) });
if (all || suites.includes("jetstream")) await benchJetStream(root, { events: value("--js-events", 200_000), rate: value("--rate", 5000), seconds: value("--seconds", 30) });
if (all || suites.includes("store")) await benchStore({ alerts: value("--store-alerts", 20_000) });
if (all || suites.includes("anomaly")) await benchAnomaly(root, { rows: value("--anomaly-rows", 1_000_000) });
if (suites.includes("anomaly-eval")) {
  const i = args.indexOf("--odds");
  const dir = i === -1 ? (process.env.VIGIL_SHARED_DATA === undefined ? join(root, "../shared/data") : process.env.VIGIL_SHARED_DATA) + "/odds" : (args[i + 1] ?? "");
  benchAnomalyEval(root, { dir, seeds: value("--seeds", 10), adapterRunsLarge: value("--adapter-runs-large", 3), skipAdapter: flag("--skip-adapter") });
}
if (suites.includes("nab")) {
  const i = args.indexOf("--nab");
  const dir = i === -1 ? (process.env.VIGIL_SHARED_DATA === undefined ? join(root, "../shared/data") : process.env.VIGIL_SHARED_DATA) + "/nab" : (args[i + 1] ?? "");
  benchNab({ dir, threshold: value("--nab-threshold", 0.999) });
}
if (all || suites.includes("response")) await benchResponse({ actions: value("--actions", 2_000) });
