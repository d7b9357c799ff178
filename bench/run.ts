/**
 * `npm run bench [-- SUITE... ] [--lines N] [--skip-fail2ban]`: runs the benchmarks and prints
 * a table per suite. Suites: replay, language (`--lang-events N`, `--lang-rules N`). Numbers
 * are ratios against a baseline measured in the same run.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchEngine } from "./engine.js";
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
const valueFlags = ["--lines", "--events", "--lang-events", "--lang-rules", "--store-alerts", "--actions"];
const suites = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && valueFlags.includes(args[i - 1] ?? "")));
const all = suites.length === 0;

if (all || suites.includes("replay")) await benchReplay(root, { lines: value("--lines", 1_000_000), skipFail2ban: flag("--skip-fail2ban") });
if (all || suites.includes("language")) {
  const ok = await benchLanguage({ events: value("--lang-events", 200_000), rules: value("--lang-rules", 1_000) });
  if (!ok) process.exitCode = 1;
}
if (all || suites.includes("engine")) await benchEngine({ events: value("--events", 1_000_000) });
if (all || suites.includes("store")) await benchStore({ alerts: value("--store-alerts", 20_000) });
if (all || suites.includes("response")) await benchResponse({ actions: value("--actions", 2_000) });
