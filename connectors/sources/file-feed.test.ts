import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { EngineEvent } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";
import { feedFile, followFile } from "./file-feed.js";
import { readLogEvents, type LogReadStats } from "./log-file.js";

const line = (i: number) => JSON.stringify({ "@timestamp": new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), message: `m${i}` });
const stats = (): LogReadStats => ({ lines: 0, events: 0, failures: new Map() });

function collector() {
  const events: EngineEvent[] = [];
  const dead: DeadLetter[] = [];
  return { events, dead, publish: (e: readonly EngineEvent[], d: readonly DeadLetter[]) => (events.push(...e), dead.push(...d), Promise.resolve()) };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "vigil-feed-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("feeding files", () => {
  test("chunked feeding yields exactly what the replay reader yields: ids, seq, dead letters", async () => {
    const f = join(dir, "a.log");
    writeFileSync(f, [line(1), "not json and not syslog", line(2), "", line(3)].join("\n")); // last line unterminated
    const c = collector();
    const next = await feedFile(f, { format: "json" }, 10, c, stats());
    const ref: EngineEvent[] = [];
    await readLogEvents(f, { format: "json" }, 10, (e) => ref.push(e), () => undefined, stats());
    expect(c.events).toEqual(ref);
    expect(next).toBe(13);
    expect(c.dead.map((d) => [d.position, d.reason])).toEqual([[2, "invalid_json"]]);
  });

  test("following: growth, a partial line completed later, rotation, truncation, a file that appears later", async () => {
    const f = join(dir, "b.log");
    const c = collector();
    const ctl = new AbortController();
    const s = stats();
    const done = followFile(f, { format: "json" }, 0, c, s, { pollMs: 10 }, ctl.signal);
    await new Promise((r) => setTimeout(r, 30)); // not there yet: waited for
    writeFileSync(f, `${line(1)}\n${line(2).slice(0, 10)}`);
    await until(() => c.events.length === 1);
    appendFileSync(f, `${line(2).slice(10)}\n`);
    await until(() => c.events.length === 2);
    // rotation: the old file moves away (and gets a last line), a new one takes its place
    renameSync(f, `${f}.1`);
    appendFileSync(`${f}.1`, `${line(3)}\n`);
    writeFileSync(f, `${line(4)}\n`);
    await until(() => c.events.length === 4);
    // truncation in place
    truncateSync(f, 0);
    await new Promise((r) => setTimeout(r, 50));
    appendFileSync(f, `${line(5)}\n`);
    await until(() => c.events.length === 5);
    ctl.abort();
    await done;
    expect(c.events.map((e) => (e.fields as { message: string }).message)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect(c.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(c.events.map((e) => e.position)).toEqual([1, 2, 3, 1, 1]);
  });
});
