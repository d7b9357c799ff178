import { type Command, InvalidArgumentError, Option } from "commander";
import type { Implementation } from "../../engine/anomaly/model.js";
import type { Io } from "../io.js";
import type { runAnomalyScore, runAnomalyTrain } from "./anomaly.js";
import { IMPLEMENTATIONS } from "./anomaly-impls.js";

/** The commands' module (PostgreSQL, NATS, the forests), loaded when one of them runs. */
const commands = () => import("./anomaly.js");

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

function integer(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("expected a whole number");
  return n;
}

function unit(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("expected a number from 0 to 1");
  return n;
}

function impls(v: string): Implementation[] {
  const list = v.split(",").map((s) => s.trim());
  for (const i of list) if (!(IMPLEMENTATIONS as readonly string[]).includes(i)) throw new InvalidArgumentError(`expected ${IMPLEMENTATIONS.join(" or ")} (comma-separated)`);
  return list as Implementation[];
}

const formatOption = () => new Option("-f, --format <format>", "event file format").choices(["auto", "json", "sshd", "syslog"]).default("auto");

/** `vigil anomaly train|score|eval`. */
export function registerAnomaly(program: Command, io: Io, setCode: (c: number) => void): void {
  const anomaly = program.command("anomaly").description("isolation-forest anomaly models: train, score, evaluate (docs/anomaly.md)");

  anomaly
    .command("eval")
    .description("ROC AUC (mean ± sd over seeds) of the native forest and the ml-isolation-forest adapter on a labelled CSV table; needs no server")
    .argument("<file>", "CSV with a header line; numeric features and a 0/1 label column")
    .option("--label <column>", "the label column (default: the last column)")
    .option("--seeds <n>", "runs per implementation (seeds 1…N; repeated runs for the unseeded library)", positive, 10)
    .option("--trees <n>", "trees per forest", positive, 100)
    .option("--sample-size <n>", "subsample size ψ of the native forest", positive, 256)
    .option("--impl <list>", `implementations, comma-separated (default: ${IMPLEMENTATIONS.join(",")})`, impls)
    .option("--json", "one JSON object keyed by implementation, each with auc_mean and auc_sd (sample sd)")
    .action(async (file: string, o: { label?: string; seeds: number; trees: number; sampleSize: number; impl?: Implementation[]; json?: boolean }) => {
      setCode((await commands()).runAnomalyEval(file, o, io));
    });

  anomaly
    .command("train")
    .description("train a native model on a baseline (a CSV table, or event files with --spec) and store it, versioned, with its metadata")
    .argument("[file...]", "a numeric CSV table, or (with --spec) event files: JSON lines or logs; - for stdin")
    .option("--spec <file>", "model definition (JSON): features computed from events")
    .option("--name <name>", "model name (default: the definition's, or `table`)")
    .option("--label <column>", "CSV: a label column to leave out of the features")
    .option("--nats-url <url>", "with --spec: train on the events stream instead of files (event time in --from/--to)")
    .option("--stream <name>", "the events stream (default SECURITY_EVENTS)")
    .option("--from <time>", "events: baseline start (RFC 3339, inclusive)")
    .option("--to <time>", "events: baseline end (RFC 3339, exclusive)")
    .option("--trees <n>", "trees (default 100)", positive)
    .option("--sample-size <n>", "subsample size ψ (default 256)", positive)
    .option("--seed <n>", "seed (default 1)", integer)
    .option("-m, --model <file>", "write the model to this file")
    .option("--store <dir>", "store it in this directory as a new version (DIR/NAME/v000001.json …)")
    .option("--database-url <url>", "store it in PostgreSQL (table vigil_models) as a new version")
    .addOption(formatOption())
    .action(async (files: string[], o: Parameters<typeof runAnomalyTrain>[1]) => {
      setCode(await (await commands()).runAnomalyTrain(files, o, io));
    });

  anomaly
    .command("score")
    .description("score a CSV table or event files with a model; one JSON line per row: raw and calibrated scores")
    .argument("<file...>", "CSV table (table models) or event files")
    .option("-m, --model <file>", "a model file")
    .option("--name <name>", "a stored model's name (with --store or --database-url)")
    .option("--version <n>", "a stored model's version (default: the newest)", positive)
    .option("--store <dir>", "model directory")
    .option("--database-url <url>", "PostgreSQL holding vigil_models")
    .option("--label <column>", "CSV: a label column to leave out")
    .option("--above <score>", "print only rows whose calibrated score is above this", unit)
    .addOption(formatOption())
    .action(async (files: string[], o: Parameters<typeof runAnomalyScore>[1]) => {
      setCode(await (await commands()).runAnomalyScore(files, o, io));
    });
}
