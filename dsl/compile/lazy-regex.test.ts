/** Patterns of generated conditions are compiled on their first test, once (codegen.ts lazyRegex). */
import { describe, expect, test, vi } from "vitest";

const compiled = vi.hoisted(() => ({ count: 0 }));
vi.mock("../regex.js", async (importOriginal) => {
  const m = await importOriginal<typeof import("../regex.js")>();
  return {
    ...m,
    compileRegexObject: (pattern: string, flags: string) => {
      compiled.count++;
      return m.compileRegexObject(pattern, flags);
    },
  };
});

const { loadPack } = await import("../pack.js");

describe("regex compilation", () => {
  test("waits for an event that reaches the pattern, then happens once", () => {
    const pack = loadPack([{ path: "t.vigil", text: 'rule r { severity low when event.category == "web" and url.path matches /adm[i]n/ }' }]);
    expect(pack.diagnostics).toEqual([]);
    const rule = pack.rules[0] as (typeof pack.rules)[number];
    expect(rule.match({ "event.category": "authentication", "url.path": "/admin" })).toBe(false);
    expect(pack.relevant({ "event.category": "authentication", "url.path": "/admin" })).toBe(false);
    expect(compiled.count).toBe(0);
    expect(rule.match({ "event.category": "web", "url.path": "/admin" })).toBe(true);
    expect(rule.match({ "event.category": "web", "url.path": "/x" })).toBe(false);
    expect(compiled.count).toBe(1);
  });
});
