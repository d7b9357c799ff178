import { spawn } from "node:child_process";
import { expect, test } from "vitest";

test("a reader that goes away (`vigil replay … | head -1`) ends the command quietly, status 0", async () => {
  // The built CLI (npm test builds first), on the shipped sample; stdout closed after the first line.
  const p = spawn(process.execPath, ["bin/vigil.js", "replay", "examples/auth.log"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  p.stderr.on("data", (b: Buffer) => (err += b.toString()));
  let first = "";
  p.stdout.once("data", (b: Buffer) => {
    first = b.toString().split("\n")[0] ?? "";
    p.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => p.on("close", (c) => resolve(c)));
  expect(JSON.parse(first)).toHaveProperty("rule");
  expect(err).not.toMatch(/EPIPE|Unhandled|at /);
  expect(code).toBe(0);
});
