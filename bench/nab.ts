/**
 * The NAB series (suite `nab`, run only when named): detections inside and outside the
 * labelled anomaly windows, per series. Data: NAB_DIR (default ../shared/data/nab; `--nab DIR`),
 * `*.csv` (timestamp,value) with the windows of `combined_windows.json`. Skips cleanly where
 * the data is absent.
 *
 * Method (a streaming detector, as Vigil runs one): each point becomes a shingle of the last
 * SHINGLE values (x[t−5] … x[t]) plus its hour of day (sin, cos); the native forest (100
 * trees, ψ = 256, seed 1) is trained on NAB's probationary period — the first 15% of the
 * series (it may overlap a labelled window: machine_temperature's first one) — and
 * calibrated on it; every later point is
 * scored, and a point whose calibrated score is above THRESHOLD (0.999: rarer than 99.9% of
 * the baseline; `--nab-threshold`) is a detection. Consecutive detections form one episode.
 * Reported: windows hit (at least one detection inside), detections inside and outside the
 * windows, episodes outside (false-alarm episodes) and the delay from a hit window's start to its
 * first detection.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { calibrate, fitCalibration } from "../engine/anomaly/calibration.js";
import { IsolationForest } from "../engine/anomaly/forest.js";
import { printTable } from "./table.js";

const SHINGLE = 6;
const PROBATION = 0.15;

export interface NabOptions {
  readonly dir: string;
  readonly threshold: number;
}

/** NAB times (`2014-07-01 00:00:00[.ffffff]`, UTC) in ms. */
function nabTime(s: string): number {
  return Date.parse(`${s.trim().replace(" ", "T").replace(/\.\d+$/, "")}Z`);
}

export interface NabSeriesResult {
  readonly series: string;
  readonly points: number;
  readonly windows: number;
  readonly windowsHit: number;
  readonly inside: number;
  readonly outside: number;
  readonly episodesOutside: number;
  readonly delaysMin: readonly number[];
}

export function nabSeries(name: string, csv: string, windows: readonly (readonly [number, number])[], threshold: number): NabSeriesResult {
  const lines = csv.trim().split(/\r?\n/).slice(1);
  const ts = lines.map((l) => nabTime(l.split(",")[0] ?? ""));
  const vs = lines.map((l) => Number(l.split(",")[1]));
  const cols = SHINGLE + 2;
  const n = lines.length - (SHINGLE - 1);
  const data = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    const t = i + SHINGLE - 1;
    for (let k = 0; k < SHINGLE; k++) data[i * cols + k] = vs[t - (SHINGLE - 1) + k] as number;
    const hour = new Date(ts[t] as number).getUTCHours();
    data[i * cols + SHINGLE] = Math.sin((2 * Math.PI * hour) / 24);
    data[i * cols + SHINGLE + 1] = Math.cos((2 * Math.PI * hour) / 24);
  }
  const train = Math.floor(lines.length * PROBATION) - (SHINGLE - 1);
  const base = { rows: train, cols, data: data.subarray(0, train * cols) };
  const forest = IsolationForest.fit(base, { seed: 1 });
  const cal = fitCalibration(forest.scores(base));
  const rest = { rows: n - train, cols, data: data.subarray(train * cols) };
  const raw = forest.scores(rest);
  const inWindow = (t: number) => windows.findIndex(([a, b]) => t >= a && t <= b);
  let inside = 0;
  let outside = 0;
  let episodesOutside = 0;
  let prevOutside = false;
  const firstHit = new Map<number, number>();
  for (let i = 0; i < raw.length; i++) {
    const t = ts[train + i + SHINGLE - 1] as number;
    const hit = calibrate(cal, raw[i] as number) > threshold;
    const w = inWindow(t);
    if (hit && w >= 0) {
      inside++;
      if (!firstHit.has(w)) firstHit.set(w, t);
    }
    if (hit && w < 0) {
      outside++;
      if (!prevOutside) episodesOutside++;
    }
    prevOutside = hit && w < 0;
  }
  const delaysMin = [...firstHit].map(([w, t]) => (t - (windows[w] as readonly [number, number])[0]) / 60_000);
  return { series: name, points: lines.length, windows: windows.length, windowsHit: firstHit.size, inside, outside, episodesOutside, delaysMin };
}

export function benchNab(o: NabOptions): NabSeriesResult[] {
  const labels = join(o.dir, "combined_windows.json");
  if (!existsSync(labels)) {
    console.log(`\nnab: skipped, ${labels} not found (the NAB series live in ../shared/data/nab)`);
    return [];
  }
  const all = JSON.parse(readFileSync(labels, "utf8")) as Record<string, [string, string][]>;
  const results: NabSeriesResult[] = [];
  for (const f of readdirSync(o.dir).filter((x) => x.endsWith(".csv")).sort()) {
    const key = Object.keys(all).find((k) => k.endsWith(`/${f}`));
    if (key === undefined) continue;
    const windows = (all[key] ?? []).map(([a, b]) => [nabTime(a), nabTime(b)] as const);
    results.push(nabSeries(f, readFileSync(join(o.dir, f), "utf8"), windows, o.threshold));
  }
  const med = (xs: readonly number[]) => {
    if (xs.length === 0) return "-";
    const s = [...xs].sort((a, b) => a - b);
    return `${Math.round(s[Math.floor((s.length - 1) / 2)] as number)} min`;
  };
  printTable(
    `nab: shingles of ${SHINGLE} values + hour of day; trained on the first ${PROBATION * 100}% (probation), detection = calibrated score > ${o.threshold}`,
    ["series", "points", "windows hit", "detections inside", "outside", "episodes outside", "median delay"],
    results.map((r) => [r.series.replace(/\.csv$/, ""), String(r.points), `${r.windowsHit}/${r.windows}`, String(r.inside), String(r.outside), String(r.episodesOutside), med(r.delaysMin)]),
  );
  const tot = results.reduce((s, r) => ({ w: s.w + r.windows, h: s.h + r.windowsHit, i: s.i + r.inside, o: s.o + r.outside }), { w: 0, h: 0, i: 0, o: 0 });
  console.log(`total: ${tot.h}/${tot.w} windows hit, ${tot.i} detections inside, ${tot.o} outside`);
  return results;
}
