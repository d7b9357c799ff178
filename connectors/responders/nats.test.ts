/** NATS commands against the real JetStream server (2.9), under a unique subject prefix and stream. */
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { ResponseAction } from "../../engine/response.js";
import { natsUrl, uniqueName } from "../../test/support/services.js";
import {
  NatsCommandResponder,
  commandTopologyForPrefix,
  provisionCommandStream,
  type CommandTopology,
} from "./nats.js";

let nc: NatsConnection;
let jsm: JetStreamManager;
let topo: CommandTopology;
const signal = new AbortController().signal;

beforeAll(async () => {
  nc = await connect({ servers: natsUrl() });
  jsm = await jetstreamManager(nc);
  topo = commandTopologyForPrefix(uniqueName("vresp"));
});
afterAll(async () => {
  await jsm.streams.delete(topo.stream).catch(() => undefined);
  await nc.close();
});

async function messages(): Promise<
  { subject: string; id: string | undefined; body: Record<string, unknown> }[]
> {
  const info = await jsm.streams.info(topo.stream);
  const out = [];
  const s = await jetstream(nc).streams.get(topo.stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await s.getMessage({ seq });
    if (m !== null)
      out.push({
        subject: m.subject,
        id: m.header?.get("Nats-Msg-Id"),
        body: m.json<Record<string, unknown>>(),
      });
  }
  return out;
}

const act = (
  id: string,
  action: string,
  args: Record<string, unknown>,
  until: number | null,
): ResponseAction => ({ id, alert_id: "al1", incident_id: "inc1", action, args, mode: "enforce", until });

test("the commands stream is provisioned idempotently, and holds commands while no one listens", async () => {
  await provisionCommandStream(jsm, topo);
  await provisionCommandStream(jsm, topo);
  expect((await jsm.streams.info(topo.stream)).config.subjects).toEqual([`${topo.subjectPrefix}.commands.>`]);
  const r = new NatsCommandResponder(jetstream(nc), topo);
  const now = Date.parse("2027-01-01T00:00:00Z");
  const block = act("a1", "block_ip", { ip: "203.0.113.7", for: 3_600_000 }, now + 3_600_000);
  expect(await r.execute(block, { alert: undefined, signal, now })).toMatchObject({ status: "done" });
  expect(await r.execute(block, { alert: undefined, signal, now })).toMatchObject({
    detail: expect.stringContaining("duplicate") as unknown,
  });
  await r.execute(act("a2", "lock_account", { account: "alice" }, now + 300_000), {
    alert: undefined,
    signal,
    now,
  });
  await r.execute(act("a3", "isolate_host", { host: "web01" }, null), { alert: undefined, signal, now });
  await r.reverse(block, { alert: undefined, signal, now: now + 3_600_000 });
  await r.execute(act("a4", "require_mfa", { account: "bob" }, null), { alert: undefined, signal, now });

  const msgs = await messages();
  expect(msgs.map((m) => [m.subject, m.id, m.body.op])).toEqual([
    [`${topo.subjectPrefix}.commands.firewall`, "a1:block", "block"],
    [`${topo.subjectPrefix}.commands.account`, "a2:lock", "lock"],
    [`${topo.subjectPrefix}.commands.host`, "a3:isolate", "isolate"],
    [`${topo.subjectPrefix}.commands.firewall`, "a1:unblock", "unblock"],
    [`${topo.subjectPrefix}.commands.account`, "a4:require_mfa", "require_mfa"],
  ]);
  expect(msgs[0]!.body).toEqual({
    op: "block",
    ip: "203.0.113.7",
    action_id: "a1",
    alert_id: "al1",
    until: now + 3_600_000,
    expires_at: "2027-01-01T01:00:00.000Z",
    issued_at: "2027-01-01T00:00:00.000Z",
  });
  expect(msgs[1]!.body).toMatchObject({ op: "lock", account: "alice", until: now + 300_000 });
  expect(msgs[2]!.body).toMatchObject({ op: "isolate", host: "web01", until: null });
  expect(msgs[3]!.body).toMatchObject({ op: "unblock", ip: "203.0.113.7", until: null });
});

test("no stream for the subject (nothing provisioned): publish fails, so the dispatcher retries", async () => {
  const r = new NatsCommandResponder(
    jetstream(nc, { timeout: 1000 }),
    commandTopologyForPrefix(uniqueName("vnone")),
  );
  await expect(
    r.execute(act("b1", "block_ip", { ip: "203.0.113.8" }, Date.now() + 1000), {
      alert: undefined,
      signal,
      now: Date.now(),
    }),
  ).rejects.toThrow();
});
