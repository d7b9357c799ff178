/**
 * The action framework over the real incident store (PGlite in memory): exactly-once by
 * deterministic id, modes, guards, retries, timeouts, the circuit breaker, approval, undo,
 * and reversal on the wall clock across a restart. Persistence, restart and audit run on
 * PostgreSQL too. The responder here is a scripted target
 * (the real targets have their own tests against real servers).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Alert, PlannedAction } from "../../engine/alert.js";
import type { ActionOutcome, Responder, ResponseAction, ResponseContext } from "../../engine/response.js";
import { responseActionId } from "../../engine/response.js";
import { withPgDatabase, type PgDatabase } from "../../test/support/services.js";
import { openStore } from "../store/open.js";
import type { IncidentStore } from "../store/types.js";
import { ActionDispatcher, type DispatcherOptions } from "./dispatcher.js";
import { Allowlist, RateCap } from "./guards.js";

let store: IncidentStore;

function alert(actions: PlannedAction[], over: Partial<Alert> = {}): Alert {
  const id = randomBytes(16).toString("hex");
  return {
    id,
    rule: "ssh_bruteforce",
    rule_version: "v1",
    title: "SSH brute force",
    severity: "high",
    risk: 70,
    tags: [],
    keys: { "source.address": "203.0.113.7" },
    count: 5,
    value: undefined,
    first_event_at: "2026-11-14T06:25:13.000Z",
    last_event_at: "2026-11-14T06:26:13.000Z",
    fired_at: "2026-11-14T06:26:13.000Z",
    detected_at: new Date().toISOString(),
    evidence: { event_ids: [], origins: [], truncated: 0 },
    suppressed: 0,
    actions,
    ...over,
  };
}

const block = (ip: string, mode: PlannedAction["mode"] = "enforce", ms = 3_600_000): PlannedAction => ({
  action: "block_ip",
  mode,
  args: { ip, for: ms },
});

/** A scripted target: records calls; `behave` decides each attempt. */
class Target implements Responder {
  describe?: (a: ResponseAction) => string;
  readonly kind: string;
  readonly actions: readonly string[];
  calls: { op: "execute" | "reverse"; action: ResponseAction; ctx: ResponseContext }[] = [];
  behave: (n: number, a: ResponseAction, signal: AbortSignal) => Promise<ActionOutcome> = () =>
    Promise.resolve({ status: "done" });
  constructor(
    kind = "target",
    actions: readonly string[] = ["block_ip", "lock_account", "notify", "require_mfa"],
  ) {
    this.kind = kind;
    this.actions = actions;
  }
  execute(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    this.calls.push({ op: "execute", action: a, ctx });
    return this.behave(
      this.calls.filter((c) => c.op === "execute" && c.action.id === a.id).length,
      a,
      ctx.signal,
    );
  }
  reverse(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    this.calls.push({ op: "reverse", action: a, ctx });
    return Promise.resolve({ status: "done" });
  }
  executed(): ResponseAction[] {
    return this.calls.filter((c) => c.op === "execute").map((c) => c.action);
  }
}

function dispatcher(
  target: Responder | Responder[],
  over: Partial<DispatcherOptions> = {},
): ActionDispatcher {
  const allow = Allowlist.create({ addresses: ["198.51.100.0/24"], accounts: ["svc-backup"] });
  if (!allow.ok) throw new Error(allow.error.message);
  return new ActionDispatcher({
    ledger: store.actions,
    audit: store.audit,
    responders: Array.isArray(target) ? target : [target],
    allowlist: allow.value,
    rateCap: new RateCap({}, 1000),
    retry: { attempts: 3, baseMs: 5, maxMs: 20, timeoutMs: 500 },
    breaker: { failures: 100, cooldownMs: 60_000 },
    ...over,
  });
}

async function record(id: string) {
  const r = await store.actions.get(id);
  if (r === undefined) throw new Error(`no action ${id}`);
  return r;
}

describe.each(["pglite", "postgresql"] as const)("on %s", (backend) => {
  let pgdb: PgDatabase | undefined;
  beforeAll(async () => {
    if (backend === "postgresql") pgdb = await withPgDatabase();
    store = await openStore({ databaseUrl: pgdb?.url ?? "memory://" });
  });
  afterAll(async () => {
    await store.close();
    await pgdb?.drop();
  });

  describe("exactly once", () => {
    test("the same alert dispatched twice (a replay, a redelivery) runs each action once", async () => {
      const t = new Target();
      const d = dispatcher(t);
      const a = alert([
        block("203.0.113.7"),
        { action: "notify", mode: "enforce", args: { channel: "soc" } },
      ]);
      await d.dispatch([a]);
      await d.dispatch([a]);
      await d.drain();
      await d.dispatch([a]);
      await d.drain();
      expect(
        t
          .executed()
          .map((x) => x.action)
          .sort(),
      ).toEqual(["block_ip", "notify"]);
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.7", for: 3_600_000 });
      expect((await record(id)).status).toBe("done");
    });

    test("a second dispatcher over the same store (a restart) does not repeat a done action", async () => {
      const t1 = new Target();
      const a = alert([block("203.0.113.8")]);
      const d1 = dispatcher(t1);
      await d1.dispatch([a]);
      await d1.close();
      const t2 = new Target();
      const d2 = dispatcher(t2);
      await d2.dispatch([a]);
      await d2.tick();
      await d2.drain();
      expect(t1.executed()).toHaveLength(1);
      expect(t2.executed()).toHaveLength(0);
    });

    test("an action left pending by a crash is resumed on the next poll", async () => {
      const a = alert([block("203.0.113.9")]);
      const args = { ip: "203.0.113.9", for: 3_600_000 };
      const id = responseActionId(a.id, "block_ip", args);
      expect(
        await store.actions.claim({
          id,
          incident_id: null,
          alert_id: a.id,
          action: "block_ip",
          args,
          mode: "enforce",
          created_at: new Date().toISOString(),
          reverse_at: null,
          status: "pending",
        }),
      ).toBe(true);
      const t = new Target();
      const d = dispatcher(t);
      await d.tick();
      await d.drain();
      expect(t.executed().map((x) => x.id)).toContain(id);
      expect((await record(id)).status).toBe("done");
    });
  });

  describe("approval and undo through the API", () => {
    test("approve: queued until approved, then run; a second approval is refused", async () => {
      const t = new Target();
      const d = dispatcher(t);
      const a = alert([block("203.0.113.40", "approve")]);
      await d.dispatch([a]);
      await d.drain();
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.40", for: 3_600_000 });
      expect((await record(id)).status).toBe("awaiting_approval");
      expect(t.executed()).toHaveLength(0);
      expect(await d.approve(id, { kind: "user", id: "alice" })).toEqual({ ok: true });
      await d.drain();
      expect((await record(id)).status).toBe("done");
      expect(t.executed().map((x) => x.id)).toEqual([id]);
      expect(await d.approve(id, { kind: "user", id: "alice" })).toMatchObject({
        ok: false,
        code: "E_CONFLICT",
      });
      const audit = await store.audit.list(0, 10_000);
      expect(
        audit.some((e) => e.action === "action.approve" && e.target === id && e.actor.id === "alice"),
      ).toBe(true);
    });

    test("an approved action is not held to the rate cap (a person decided it), automated ones still are", async () => {
      const t = new Target();
      const d = dispatcher(t, { rateCap: new RateCap({ block_ip: 1 }, 1000), concurrency: 1 });
      const auto = [alert([block("203.0.113.50")]), alert([block("203.0.113.51")])];
      const held = alert([block("203.0.113.52", "approve")]);
      await d.dispatch([...auto, held]);
      await d.drain();
      expect(t.executed().map((x) => x.args["ip"])).toEqual(["203.0.113.50"]);
      const id = responseActionId(held.id, "block_ip", { ip: "203.0.113.52", for: 3_600_000 });
      expect(await d.approve(id, { kind: "user", id: "alice" })).toEqual({ ok: true });
      await d.drain();
      expect((await record(id)).status).toBe("done");
      expect(t.executed().map((x) => x.args["ip"])).toEqual(["203.0.113.50", "203.0.113.52"]);
    });

    test("an approval that cannot run is refused and the action keeps waiting", async () => {
      const t = new Target("target", ["notify"]);
      const d = dispatcher(t);
      const a = alert([block("203.0.113.53", "approve"), block("198.51.100.9", "approve")]);
      await d.dispatch([a]);
      const noResponder = responseActionId(a.id, "block_ip", { ip: "203.0.113.53", for: 3_600_000 });
      const allowlisted = responseActionId(a.id, "block_ip", { ip: "198.51.100.9", for: 3_600_000 });
      expect(await d.approve(noResponder, { kind: "user", id: "alice" })).toEqual({
        ok: false,
        code: "E_CONFLICT",
        message: `action ${noResponder} cannot run: no responder configured for block_ip; it is still awaiting approval (undo rejects it)`,
      });
      expect(await d.approve(allowlisted, { kind: "user", id: "alice" })).toMatchObject({ ok: false, code: "E_CONFLICT", message: expect.stringMatching(/cannot run: allowlisted/) as unknown });
      await d.drain();
      expect((await record(noResponder)).status).toBe("awaiting_approval");
      expect((await record(allowlisted)).status).toBe("awaiting_approval");
      expect(t.executed()).toHaveLength(0);
      expect(await d.undo(noResponder, { kind: "user", id: "alice" })).toEqual({ ok: true });
      expect((await record(noResponder)).status).toBe("skipped");
    });

    test("undo of an action awaiting approval rejects it", async () => {
      const d = dispatcher(new Target());
      const a = alert([block("203.0.113.41", "approve")]);
      await d.dispatch([a]);
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.41", for: 3_600_000 });
      expect(await d.undo(id, { kind: "user", id: "bob" })).toEqual({ ok: true });
      expect(await record(id)).toMatchObject({ status: "skipped", reason: "rejected by user bob" });
    });

    test("undo of a done block reverses it now; undo of a notify or of an unknown id is refused", async () => {
      const t = new Target();
      const d = dispatcher(t);
      const a = alert([
        block("203.0.113.42"),
        { action: "notify", mode: "enforce", args: { channel: "soc" } },
      ]);
      await d.dispatch([a]);
      await d.drain();
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.42", for: 3_600_000 });
      expect(await d.undo(id, { kind: "user", id: "carol" })).toEqual({ ok: true });
      expect((await record(id)).status).toBe("reversed");
      expect(t.calls.filter((c) => c.op === "reverse").map((c) => c.action.id)).toEqual([id]);
      expect(await d.undo(id, { kind: "user", id: "carol" })).toMatchObject({
        ok: false,
        code: "E_CONFLICT",
      });
      expect(
        await d.undo(responseActionId(a.id, "notify", { channel: "soc" }), { kind: "user", id: "carol" }),
      ).toMatchObject({ ok: false, code: "E_INVALID" });
      expect(await d.undo("nope", { kind: "user", id: "carol" })).toMatchObject({
        ok: false,
        code: "E_NOT_FOUND",
      });
      const audit = await store.audit.list(0, 10_000);
      expect(audit.some((e) => e.action === "action.undo" && e.target === id && e.actor.id === "carol")).toBe(
        true,
      );
    });
  });

  describe("reversal", () => {
    test("undone when its time is up on the wall clock, not before; across a restart in between", async () => {
      let now = Date.parse("2027-02-01T00:00:00Z");
      const t1 = new Target();
      const d1 = dispatcher(t1, { now: () => now });
      const a = alert([block("203.0.113.50", "enforce", 3_600_000)], {
        fired_at: "2026-01-01T00:00:00.000Z",
      });
      await d1.dispatch([a]);
      await d1.drain();
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.50", for: 3_600_000 });
      now += 3_599_000;
      await d1.tick();
      expect((await record(id)).status).toBe("done");
      await d1.close();

      now += 2_000; // past the hour, with Vigil "down" in between
      const t2 = new Target();
      const d2 = dispatcher(t2, { now: () => now });
      await d2.tick();
      const rec = await record(id);
      expect(rec).toMatchObject({ status: "reversed", reversed_at: new Date(now).toISOString() });
      const rev = t2.calls.filter((c) => c.op === "reverse");
      expect(rev.map((c) => [c.action.id, c.action.until])).toEqual([
        [id, Date.parse("2027-02-01T01:00:00Z")],
      ]);
      await d2.tick();
      expect(t2.calls.filter((c) => c.op === "reverse")).toHaveLength(1);
    });

    test("a sweep that read an action as pending before it finished does not run it again", async () => {
      const t = new Target();
      const d1 = dispatcher(t);
      const a = alert([block("203.0.113.60")]);
      await d1.dispatch([a]);
      await d1.drain();
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.60", for: 3_600_000 });
      const stale = { ...(await record(id)), status: "pending" as const };
      const ledger = Object.create(store.actions) as typeof store.actions;
      ledger.list = () => Promise.resolve([stale]);
      const d2 = dispatcher(t, { ledger });
      await d2.tick();
      await d2.drain();
      expect(t.executed()).toHaveLength(1);
      expect((await record(id)).status).toBe("done");
    });

    test("a due reversal whose responder was configured away is marked reversed, with a note to undo it by hand", async () => {
      let now = Date.parse("2027-04-01T00:00:00Z");
      const d1 = dispatcher(new Target(), { now: () => now });
      const a = alert([block("203.0.113.61", "enforce", 60_000)]);
      await d1.dispatch([a]);
      await d1.drain();
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.61", for: 60_000 });
      now += 61_000;
      const d2 = dispatcher([], { now: () => now });
      await d2.tick();
      expect((await record(id)).status).toBe("reversed");
      const note = (await store.audit.list(0, 10_000)).find(
        (e) => e.target === id && e.action === "action.reverse_skipped",
      );
      expect(note?.details.reason).toBe("no responder configured for block_ip: undo it by hand");
    });

    test("a reversal that fails is retried on the next poll", async () => {
      let now = Date.parse("2027-03-01T00:00:00Z");
      const t = new Target();
      let down = true;
      t.reverse = (a) => {
        t.calls.push({
          op: "reverse",
          action: a,
          ctx: { alert: undefined, signal: new AbortController().signal, now },
        });
        return down ? Promise.reject(new Error("down")) : Promise.resolve({ status: "done" });
      };
      const d = dispatcher(t, {
        now: () => now,
        retry: { attempts: 1, baseMs: 1, maxMs: 1, timeoutMs: 100 },
      });
      const a = alert([block("203.0.113.51", "enforce", 60_000)]);
      await d.dispatch([a]);
      await d.drain();
      const id = responseActionId(a.id, "block_ip", { ip: "203.0.113.51", for: 60_000 });
      now += 61_000;
      await d.tick();
      expect((await record(id)).status).toBe("done");
      down = false;
      await d.tick();
      expect((await record(id)).status).toBe("reversed");
      const audit = await store.audit.list(0, 10_000);
      expect(audit.filter((e) => e.target === id).map((e) => e.action)).toEqual([
        "action.claim",
        "action.done",
        "action.reverse_failed",
        "action.reversed",
      ]);
    });
  });
});

describe("on pglite", () => {
  beforeAll(async () => {
    store = await openStore({ databaseUrl: "memory://" });
  });
  afterAll(() => store.close());

  describe("outcomes", () => {
    test("done: the reversal time is the wall clock at execution plus the duration, whatever the event time", async () => {
      const t = new Target();
      const now = Date.parse("2027-01-01T00:00:00Z");
      const d = dispatcher(t, { now: () => now });
      const a = alert([block("203.0.113.10")]);
      await d.dispatch([a]);
      await d.drain();
      const rec = await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.10", for: 3_600_000 }));
      expect(rec).toMatchObject({ status: "done", reverse_at: "2027-01-01T01:00:00.000Z", attempts: 1 });
      expect(t.executed()[0]!.until).toBe(now + 3_600_000);
    });

    test("a lock without a duration takes the lockout policy's 300 s; require_mfa without one has no reversal time", async () => {
      const t = new Target();
      const now = Date.parse("2027-01-01T00:00:00Z");
      const d = dispatcher(t, { now: () => now });
      const a = alert([
        { action: "lock_account", mode: "enforce", args: { account: "alice" } },
        { action: "require_mfa", mode: "enforce", args: { account: "alice" } },
      ]);
      await d.dispatch([a]);
      await d.drain();
      expect((await record(responseActionId(a.id, "lock_account", { account: "alice" }))).reverse_at).toBe(
        "2027-01-01T00:05:00.000Z",
      );
      const mfa = await record(responseActionId(a.id, "require_mfa", { account: "alice" }));
      expect(mfa).toMatchObject({ status: "done", reverse_at: null });
    });

    test("a target that is down: retried with backoff, then failed with the reason; the dispatch did not wait", async () => {
      const t = new Target();
      t.behave = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1"));
      const d = dispatcher(t);
      const a = alert([block("203.0.113.11")]);
      const started = Date.now();
      await d.dispatch([a]);
      const dispatchMs = Date.now() - started;
      await d.drain();
      const rec = await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.11", for: 3_600_000 }));
      expect(rec.status).toBe("failed");
      expect(rec.attempts).toBe(3);
      expect(rec.reason).toContain("ECONNREFUSED");
      expect(t.executed()).toHaveLength(3);
      expect(dispatchMs).toBeLessThan(2_000);
      const audit = await store.audit.list(0, 10_000);
      expect(
        audit.some(
          (e) =>
            e.action === "action.failed" &&
            e.target === rec.id &&
            String(e.details.reason).includes("ECONNREFUSED"),
        ),
      ).toBe(true);
    });

    test("a target that recovers: done on the third attempt", async () => {
      const t = new Target();
      t.behave = (n) => (n < 3 ? Promise.reject(new Error("503")) : Promise.resolve({ status: "done" }));
      const d = dispatcher(t);
      const a = alert([block("203.0.113.12")]);
      await d.dispatch([a]);
      await d.drain();
      expect(
        await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.12", for: 3_600_000 })),
      ).toMatchObject({ status: "done", attempts: 3 });
    });

    test("a target that hangs times out, is retried, and fails; the pipeline is not held", async () => {
      const t = new Target();
      t.behave = (_n, _a, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
      const d = dispatcher(t, { retry: { attempts: 2, baseMs: 1, maxMs: 1, timeoutMs: 50 } });
      const a = alert([block("203.0.113.13")]);
      await d.dispatch([a]);
      await d.drain();
      const rec = await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.13", for: 3_600_000 }));
      expect(rec).toMatchObject({ status: "failed", attempts: 2 });
      expect(rec.reason).toMatch(/timed out after 50 ms/);
    });

    test("the circuit opens after repeated failures: later actions fail at once without calling the target", async () => {
      const t = new Target();
      t.behave = () => Promise.reject(new Error("down"));
      const d = dispatcher(t, {
        retry: { attempts: 2, baseMs: 1, maxMs: 1, timeoutMs: 100 },
        breaker: { failures: 2, cooldownMs: 60_000 },
        concurrency: 1,
      });
      const a1 = alert([block("203.0.113.14")]);
      const a2 = alert([block("203.0.113.15")]);
      await d.dispatch([a1, a2]);
      await d.drain();
      expect(t.executed()).toHaveLength(2);
      const r2 = await record(responseActionId(a2.id, "block_ip", { ip: "203.0.113.15", for: 3_600_000 }));
      expect(r2.status).toBe("failed");
      expect(r2.reason).toMatch(/circuit open/);
    });

    test("one responder failing and another done: failed, naming both", async () => {
      const ok = new Target("redis");
      const bad = new Target("nats");
      bad.behave = () => Promise.reject(new Error("no responders"));
      const d = dispatcher([ok, bad]);
      const a = alert([block("203.0.113.16")]);
      await d.dispatch([a]);
      await d.drain();
      const rec = await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.16", for: 3_600_000 }));
      expect(rec.status).toBe("failed");
      expect(rec.reason).toContain("nats: no responders");
      expect(rec.reason).toContain("done by redis");
    });
  });

  describe("modes and guards", () => {
    test("dry_run on the rule: recorded with what would be done, the target never called", async () => {
      const t = new Target();
      t.describe = (a: ResponseAction) => `ZADD blocked ${String(a.args.ip)}`;
      const d = dispatcher(t);
      const a = alert([block("203.0.113.20", "dry_run")]);
      await d.dispatch([a]);
      await d.drain();
      const rec = await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.20", for: 3_600_000 }));
      expect(rec).toMatchObject({ status: "skipped", mode: "dry_run" });
      expect(rec.reason).toBe(
        "dry_run: would block_ip 203.0.113.20 for 3600s (target: ZADD blocked 203.0.113.20)",
      );
      expect(t.executed()).toHaveLength(0);
    });

    test("a per-rule or per-action mode in the configuration makes an enforced action more cautious", async () => {
      const t = new Target();
      const d = dispatcher(t, { modes: { rules: { ssh_bruteforce: "dry_run" } } });
      const a = alert([block("203.0.113.21")]);
      await d.dispatch([a]);
      await d.drain();
      expect(
        (await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.21", for: 3_600_000 }))).mode,
      ).toBe("dry_run");
      const d2 = dispatcher(t, { modes: { actions: { block_ip: "approve" } } });
      const b = alert([block("203.0.113.22")]);
      await d2.dispatch([b]);
      await d2.drain();
      expect(
        (await record(responseActionId(b.id, "block_ip", { ip: "203.0.113.22", for: 3_600_000 }))).status,
      ).toBe("awaiting_approval");
      expect(t.executed()).toHaveLength(0);
    });

    test("break-glass turns every action into a dry run", async () => {
      const t = new Target();
      let glass = true;
      const d = dispatcher(t, { breakGlass: () => glass });
      const a = alert([block("203.0.113.23")]);
      await d.dispatch([a]);
      await d.drain();
      const rec = await record(responseActionId(a.id, "block_ip", { ip: "203.0.113.23", for: 3_600_000 }));
      expect(rec.status).toBe("skipped");
      expect(rec.reason).toMatch(/^dry_run \(break-glass\): would block_ip 203\.0\.113\.23/);
      glass = false;
      const b = alert([block("203.0.113.24")]);
      await d.dispatch([b]);
      await d.drain();
      expect(t.executed().map((x) => x.args.ip)).toEqual(["203.0.113.24"]);
    });

    test("allowlisted addresses (and loopback, by default) and accounts are never touched", async () => {
      const t = new Target();
      const d = dispatcher(t);
      const a = alert([
        block("198.51.100.7"),
        block("127.0.0.1"),
        { action: "lock_account", mode: "enforce", args: { account: "SVC-Backup" } },
      ]);
      await d.dispatch([a]);
      await d.drain();
      expect(t.executed()).toHaveLength(0);
      const r1 = await record(responseActionId(a.id, "block_ip", { ip: "198.51.100.7", for: 3_600_000 }));
      expect(r1).toMatchObject({
        status: "skipped",
        reason: "allowlisted: 198.51.100.7 is in the address allowlist",
      });
      expect(
        (await record(responseActionId(a.id, "block_ip", { ip: "127.0.0.1", for: 3_600_000 }))).status,
      ).toBe("skipped");
      expect(
        (await record(responseActionId(a.id, "lock_account", { account: "SVC-Backup" }))).reason,
      ).toMatch(/allowlisted: account/);
    });

    test("the per-kind cap per minute skips the excess with the reason", async () => {
      const t = new Target();
      const d = dispatcher(t, { rateCap: new RateCap({ block_ip: 2 }, 1000), concurrency: 1 });
      const alerts = [
        alert([block("203.0.113.30")]),
        alert([block("203.0.113.31")]),
        alert([block("203.0.113.32")]),
      ];
      await d.dispatch(alerts);
      await d.drain();
      expect(t.executed()).toHaveLength(2);
      const third = await record(
        responseActionId(alerts[2]!.id, "block_ip", { ip: "203.0.113.32", for: 3_600_000 }),
      );
      expect(third).toMatchObject({
        status: "skipped",
        reason: "rate cap: more than 2 block_ip actions in the last minute",
      });
    });

    test("a missing target argument or a non-address is skipped with the reason", async () => {
      const t = new Target();
      const d = dispatcher(t);
      const a = alert([
        { action: "block_ip", mode: "enforce", args: { for: 3_600_000 } },
        block("evil.example.com"),
      ]);
      await d.dispatch([a]);
      await d.drain();
      expect((await record(responseActionId(a.id, "block_ip", { for: 3_600_000 }))).reason).toBe(
        "missing argument ip: the triggering event had no value for it",
      );
      expect(
        (await record(responseActionId(a.id, "block_ip", { ip: "evil.example.com", for: 3_600_000 }))).reason,
      ).toBe('not an address: "evil.example.com"');
      expect(t.executed()).toHaveLength(0);
    });
  });
});
