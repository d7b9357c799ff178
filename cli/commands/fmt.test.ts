import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { main } from "../main.js";
import { runFmt } from "./fmt.js";
import { captureIo } from "../../test/support/capture-io.js";

const MESSY = 'macro   bad_login=event.outcome=="failure" # failures\nrule r{severity low when bad_login}';
const CANONICAL = 'macro bad_login = event.outcome == "failure" # failures\n\nrule r {\n  severity low\n  when bad_login\n}\n';
const BROKEN = "rule broken {\n  when a = 1\n}\n";

describe("vigil fmt", () => {
  let dir: string;
  const read = (name: string) => readFileSync(join(dir, name), "utf8");

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vigil-fmt-"));
    writeFileSync(join(dir, "messy.vigil"), MESSY);
    writeFileSync(join(dir, "clean.vigil"), CANONICAL);
    mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
    writeFileSync(join(dir, "sub", "deeper", "nested.vigil"), "param  n=5");
    writeFileSync(join(dir, "sub", "notes.txt"), "param  n=5");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("rewrites the files under a directory, recursively, in canonical form", () => {
    const io = captureIo();
    expect(runFmt([dir], {}, io)).toBe(0);
    expect(read("messy.vigil")).toBe(CANONICAL);
    expect(read("clean.vigil")).toBe(CANONICAL);
    expect(read("sub/deeper/nested.vigil")).toBe("param n = 5\n");
    expect(read("sub/notes.txt")).toBe("param  n=5");
    expect(io.outLines).toEqual([join(dir, "messy.vigil"), join(dir, "sub", "deeper", "nested.vigil")]);
    expect(io.errLines).toEqual(["formatted 2 files, 1 file already formatted"]);

    const again = captureIo();
    expect(runFmt([dir], {}, again)).toBe(0);
    expect(again.outLines).toEqual([]);
    expect(again.errLines).toEqual(["3 files already formatted"]);
  });

  test("leaves an unchanged file alone (not even rewritten)", () => {
    const before = statSync(join(dir, "clean.vigil")).mtimeMs;
    expect(runFmt([join(dir, "clean.vigil")], {}, captureIo())).toBe(0);
    expect(statSync(join(dir, "clean.vigil")).mtimeMs).toBe(before);
  });

  test("--check writes nothing, lists the files that would change and exits 1", () => {
    const io = captureIo();
    expect(runFmt([dir], { check: true }, io)).toBe(1);
    expect(read("messy.vigil")).toBe(MESSY);
    expect(io.outLines).toEqual([join(dir, "messy.vigil"), join(dir, "sub", "deeper", "nested.vigil")]);
    expect(io.errLines).toEqual(["2 files would be reformatted, 1 file already formatted"]);

    const clean = captureIo();
    expect(runFmt([join(dir, "clean.vigil")], { check: true }, clean)).toBe(0);
    expect(clean.errLines).toEqual(["1 file already formatted"]);
  });

  test("a file with syntax errors is reported and left untouched; the others are formatted", () => {
    writeFileSync(join(dir, "broken.vigil"), BROKEN);
    const io = captureIo();
    expect(runFmt([dir], {}, io)).toBe(1);
    expect(read("broken.vigil")).toBe(BROKEN);
    expect(read("messy.vigil")).toBe(CANONICAL);
    expect(io.errLines[0]).toBe(`${join(dir, "broken.vigil")}:2:10: compare with == instead of = [E_SYNTAX]\n    when a = 1\n           ^`);
    expect(io.errLines[1]).toBe("formatted 2 files, 1 file already formatted, 1 file with syntax errors left untouched");
  });

  test("a path that does not exist, or holds no .vigil file", () => {
    const io = captureIo();
    // A path that does not exist is said by main, as for every command (see main.test.ts).
    expect(() => runFmt([join(dir, "nope")], {}, io)).toThrow(/ENOENT/);
    const empty = mkdtempSync(join(tmpdir(), "vigil-fmt-empty-"));
    try {
      const io2 = captureIo();
      expect(runFmt([empty], {}, io2)).toBe(1);
      expect(io2.errLines).toEqual([`no .vigil files under ${empty}`]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("through the CLI: vigil fmt --check PATH, then vigil fmt PATH", async () => {
    const check = captureIo();
    expect(await main(["fmt", "--check", dir], check)).toBe(1);
    expect(read("messy.vigil")).toBe(MESSY);
    const io = captureIo();
    expect(await main(["fmt", dir], io)).toBe(0);
    expect(read("messy.vigil")).toBe(CANONICAL);
    expect(await main(["fmt", "--check", dir], captureIo())).toBe(0);
  });

  test("the shipped pack is formatted: vigil fmt --check rules", () => {
    const path = new URL("../../rules", import.meta.url).pathname;
    const io = captureIo();
    expect(runFmt([path], { check: true }, io), io.outLines.join("\n")).toBe(0);
  });
});
