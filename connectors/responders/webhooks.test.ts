/**
 * Notifications, webhooks and the identity provider against a local HTTP receiver that
 * checks the wire format: generic JSON, Slack-compatible `{text, blocks}`, escalation by
 * severity, bearer tokens, idempotency keys, and which answers are retried.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { Alert } from "../../engine/alert.js";
import type { ResponseAction } from "../../engine/response.js";
import { startReceiver, type HttpReceiver } from "../../test/support/http-receiver.js";
import { IdpWebhookResponder } from "./idp.js";
import { NotifyResponder } from "./notify.js";

let rx: HttpReceiver;
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(() => rx.close());
beforeEach(() => {
  rx.requests.length = 0;
  rx.reply = () => ({ status: 200, body: "ok" });
});

const alert = (severity: Alert["severity"]): Alert => ({
  id: "al1",
  rule: "ssh_bruteforce",
  rule_version: "v1",
  title: "SSH brute force from one source",
  severity,
  risk: 70,
  tags: [],
  keys: { "source.address": "203.0.113.7" },
  count: 5,
  value: undefined,
  first_event_at: "2026-11-14T06:25:13.000Z",
  last_event_at: "2026-11-14T06:26:13.000Z",
  fired_at: "2026-11-14T06:26:13.000Z",
  detected_at: "2026-11-14T06:26:14.000Z",
  evidence: { event_ids: [], origins: [], truncated: 0 },
  suppressed: 0,
  actions: [],
});
const act = (action: string, args: Record<string, unknown>): ResponseAction => ({
  id: "act1",
  alert_id: "al1",
  incident_id: "inc1",
  action,
  args,
  mode: "enforce",
  until: null,
});
const ctx = (a: Alert | undefined) => ({
  alert: a,
  signal: new AbortController().signal,
  now: Date.parse("2027-01-01T00:00:00Z"),
});

describe("notify", () => {
  const responder = () =>
    new NotifyResponder({
      channels: {
        soc: { url: `${rx.url}/hooks/soc`, format: "slack", token: "s3cret" },
        pager: { url: `${rx.url}/hooks/pager` },
        siem: { url: `${rx.url}/hooks/siem` },
      },
      escalation: [{ min_severity: "critical", channels: ["pager"] }],
    });

  test("Slack-compatible body to the channel, with the bearer token; no escalation below critical", async () => {
    expect(
      await responder().execute(
        act("notify", { channel: "soc", message: "blocked for 1h" }),
        ctx(alert("high")),
      ),
    ).toMatchObject({ status: "done" });
    expect(rx.requests).toHaveLength(1);
    const req = rx.requests[0]!;
    expect([req.method, req.path, req.headers["content-type"], req.headers.authorization]).toEqual([
      "POST",
      "/hooks/soc",
      "application/json",
      "Bearer s3cret",
    ]);
    const body = JSON.parse(req.body) as {
      text: string;
      blocks: { type: string; text?: { type: string; text: string } }[];
    };
    expect(body.text).toBe(
      "[HIGH] SSH brute force from one source (ssh_bruteforce) — source.address=203.0.113.7 — blocked for 1h",
    );
    expect(body.blocks[0]).toEqual({ type: "section", text: { type: "mrkdwn", text: body.text } });
    expect(body.blocks[1]!.type).toBe("context");
  });

  test("a critical alert escalates to the pager channel too, in generic JSON", async () => {
    await responder().execute(act("notify", { channel: "soc" }), ctx(alert("critical")));
    expect(rx.requests.map((r) => r.path)).toEqual(["/hooks/soc", "/hooks/pager"]);
    expect(JSON.parse(rx.requests[1]!.body)).toEqual({
      text: "[CRITICAL] SSH brute force from one source (ssh_bruteforce) — source.address=203.0.113.7",
      channel: "pager",
      severity: "critical",
      rule: "ssh_bruteforce",
      title: "SSH brute force from one source",
      keys: { "source.address": "203.0.113.7" },
      message: null,
      alert_id: "al1",
      incident_id: "inc1",
      action_id: "act1",
    });
  });

  test("a 503 is thrown (retried); a retry does not post again to a channel already reached", async () => {
    const r = responder();
    rx.reply = (req, n) =>
      req.path === "/hooks/pager" && n === 2 ? { status: 503, body: "busy" } : { status: 200 };
    await expect(r.execute(act("notify", { channel: "soc" }), ctx(alert("critical")))).rejects.toThrow(
      /answered 503: busy/,
    );
    await r.execute(act("notify", { channel: "soc" }), ctx(alert("critical")));
    expect(rx.requests.map((x) => x.path)).toEqual(["/hooks/soc", "/hooks/pager", "/hooks/pager"]);
  });

  test("a 400 is refused for good; an unconfigured channel too", async () => {
    rx.reply = () => ({ status: 400, body: "bad payload" });
    await expect(
      responder().execute(act("notify", { channel: "soc" }), ctx(alert("low"))),
    ).rejects.toMatchObject({ permanent: true });
    await expect(
      responder().execute(act("notify", { channel: "nowhere" }), ctx(alert("low"))),
    ).rejects.toThrow(/channel nowhere is not configured/);
  });

  test("webhook(name) posts the alert record as JSON", async () => {
    await responder().execute(act("webhook", { name: "siem" }), ctx(alert("high")));
    const body = JSON.parse(rx.requests[0]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: "al1",
      rule: "ssh_bruteforce",
      severity: "high",
      incident_id: "inc1",
      action_id: "act1",
    });
  });

  test("what is posted is masked, in notifications and webhooks alike", async () => {
    const leaky: Alert = { ...alert("critical"), keys: { "user.email": "a@example.com", "payload.outbound": "4111-1111-1111-1111", "http.request.password": "hunter22" } };
    const r = responder();
    await r.execute(act("notify", { channel: "soc", message: "card 4111-1111-1111-1111 in payload" }), ctx(leaky));
    await r.execute({ ...act("webhook", { name: "siem" }), id: "act2" }, ctx(leaky));
    expect(rx.requests.map((q) => q.path)).toEqual(["/hooks/soc", "/hooks/pager", "/hooks/siem"]);
    for (const q of rx.requests) {
      expect(q.body).not.toContain("4111-1111-1111-1111");
      expect(q.body).not.toContain("hunter22");
    }
    expect(rx.requests[0]!.body).toContain("****-****-****-1111");
    const hook = JSON.parse(rx.requests[2]!.body) as { keys: Record<string, unknown> };
    expect(hook.keys).toEqual({ "user.email": "a@example.com", "payload.outbound": "****-****-****-1111", "http.request.password": "[masked]" });
  });
});

describe("identity provider", () => {
  test("lock then unlock: JSON ops with the bearer token and an idempotency key", async () => {
    const r = new IdpWebhookResponder({ url: `${rx.url}/idp/actions`, token: "tok" });
    const a = { ...act("lock_account", { account: "alice" }), until: Date.parse("2027-01-01T00:05:00Z") };
    await r.execute(a, ctx(undefined));
    await r.reverse(a, ctx(undefined));
    expect(rx.requests.map((x) => [x.path, x.headers.authorization, x.headers["idempotency-key"]])).toEqual([
      ["/idp/actions", "Bearer tok", "act1:lock"],
      ["/idp/actions", "Bearer tok", "act1:unlock"],
    ]);
    expect(JSON.parse(rx.requests[0]!.body)).toEqual({
      op: "lock",
      account: "alice",
      until: a.until,
      expires_at: "2027-01-01T00:05:00.000Z",
      action_id: "act1",
      alert_id: "al1",
      issued_at: "2027-01-01T00:00:00.000Z",
    });
    expect(JSON.parse(rx.requests[1]!.body)).toMatchObject({ op: "unlock", account: "alice", until: null });
  });

  test("an identity provider that is down: a network error, thrown so it is retried", async () => {
    const gone = await startReceiver();
    await gone.close();
    const r = new IdpWebhookResponder({ url: `${gone.url}/idp` });
    await expect(r.execute(act("require_mfa", { account: "bob" }), ctx(undefined))).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});
