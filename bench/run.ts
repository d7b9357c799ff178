/**
 * `npm run bench [-- SUITE... ] [--lines N] [--skip-fail2ban]`: runs the benchmarks and prints
 * a table per suite. Suites: replay. Numbers are ratios against a baseline measured in the
 * same run.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchReplay } from "./replay.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i === -1 ? def : Number(args[i + 1]);
};
const suites = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && (args[i - 1] ?? "").startsWith("--lines")));
const all = suites.length === 0;

if (all || suites.includes("replay")) await benchReplay(root, { lines: value("--lines", 1_000_000), skipFail2ban: flag("--skip-fail2ban") });
