/**
 * The shipped field schema is whole: every field the shipped packs read, their example events
 * carry and the decoders emit on the example logs is in it — so `vigil check --schema
 * schema/fields.txt` warns only about fields that are really unknown.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import YAML from "yaml";
import { collectPackFiles } from "../cli/pack-files.js";
import { createDecoder } from "../connectors/parsers/index.js";
import { parseApiEvent } from "../connectors/parsers/api-event.js";
import { loadPack, parseSchema } from "../dsl/index.js";

const root = join(import.meta.dirname, "..");
const schema = parseSchema(readFileSync(join(root, "schema/fields.txt"), "utf8"));
const unknown = (keys: Iterable<string>): string[] => [...new Set(keys)].filter((k) => !schema.has(k)).sort();

/** Dotted paths of an event's leaves (nested objects walked; arrays are values). */
function paths(o: Record<string, unknown>, prefix = "", out: string[] = []): string[] {
  for (const [k, v] of Object.entries(o)) {
    const p = prefix === "" ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) paths(v as Record<string, unknown>, p, out);
    else out.push(p);
  }
  return out;
}

describe("schema/fields.txt", () => {
  const files = collectPackFiles([join(root, "rules")]);

  test("has every field the shipped packs read (and the check does warn without one)", () => {
    const warnings = (s: ReadonlySet<string>) => loadPack(files, { schema: s }).diagnostics.filter((d) => d.code === "W_UNKNOWN_FIELD");
    expect(warnings(schema).map((d) => d.message)).toEqual([]);
    const without = new Set([...schema].filter((f) => f !== "source.ip"));
    expect(warnings(without).some((d) => d.message.includes("'source.ip'"))).toBe(true);
  });

  test("has every field of the shipped rules' example events", () => {
    const keys: string[] = [];
    const visit = (node: unknown, inEvent: boolean): void => {
      if (Array.isArray(node)) for (const n of node) visit(n, inEvent);
      else if (node !== null && typeof node === "object")
        for (const [k, v] of Object.entries(node)) {
          if (inEvent) {
            if (!k.startsWith("$")) keys.push(k);
          } else visit(v, k === "defaults" || k === "events");
        }
    };
    for (const f of readdirSync(join(root, "rules")).filter((f) => f.endsWith(".tests.yaml"))) visit(YAML.parse(readFileSync(join(root, "rules", f), "utf8")), false);
    expect(keys.length).toBeGreaterThan(100);
    expect(unknown(keys)).toEqual([]);
  });

  test("has every field the decoders emit on the example logs and on an API event", () => {
    const keys: string[] = [];
    for (const name of ["auth.log", "apache-access.log"]) {
      const path = join(root, "examples", name);
      const d = createDecoder("auto", { source: path, year: 2024 });
      readFileSync(path, "utf8")
        .split("\n")
        .forEach((line, i) => d.decodeTo(line, i + 1, -1, (f) => keys.push(...paths(f))));
    }
    const api = parseApiEvent(
      JSON.stringify({
        timestamp: "2024-05-06T10:00:00Z",
        service: "payments",
        method: "post",
        path: "/v1/export",
        query: "a=1",
        status: 200,
        client_ip: "203.0.113.4",
        destination: "files.example.net",
        direction: "egress",
        user: "alice",
        api_key_id: "key-9",
        user_agent: "app/1.0",
        request_body: { card: "4111 1111 1111 1111" },
        bytes_in: 10,
        bytes_out: 512,
        session: { id: "s1", start: "2024-05-06T01:00:00Z", last_activity: "2024-05-06T09:20:00Z" },
      }),
    );
    expect(api.ok).toBe(true);
    if (api.ok) keys.push(...paths(api.fields));
    for (const k of ["source.ip", "ssh.method", "http.response.status_code", "session.idle_ms"]) expect(keys).toContain(k);
    expect(unknown(keys)).toEqual([]);
  });
});
