/**
 * The alert follower (store and responders on JetStream) against the real NATS server: each
 * restart continues after what was acknowledged, however many restarts in a row.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Alert } from "../../engine/index.js";
import { alertRecord } from "../../engine/alert-record.js";
import { makeAlert } from "../../test/support/store-suite.js";
import { natsUrl, uniqueName } from "../../test/support/services.js";
import { runAlertFeed } from "./alert-feed.js";
import { provision, topologyForPrefix } from "./topology.js";

let nc: NatsConnection;
let jsm: JetStreamManager;
const t = topologyForPrefix(uniqueName("feed"));

beforeAll(async () => {
  nc = await connect({ servers: natsUrl() });
  jsm = await jetstreamManager(nc);
  await provision(jsm, t, 1000);
});

afterAll(async () => {
  for (const s of [t.eventsStream, t.alertsStream, t.deadLetterStream]) await jsm.streams.delete(s).catch(() => undefined);
  await nc.close();
});

/** One run of the follower until it has caught up: the alert ids its sink was given. */
async function follow(): Promise<string[]> {
  const seen: string[] = [];
  const drain = new AbortController();
  drain.abort(); // stop once caught up
  await runAlertFeed({
    nc,
    topology: t,
    consumer: "feedtest_effects",
    sinks: [{ name: "t", write: (alerts: readonly Alert[]) => (seen.push(...alerts.map((a) => a.id)), Promise.resolve()) }],
    batchSize: 50,
    signal: new AbortController().signal,
    drain: drain.signal,
    log: () => undefined,
  });
  return seen;
}

describe("alert follower", () => {
  test("restarts continue after the acknowledged alerts, however many in a row (none delivered twice)", async () => {
    const js = jetstream(nc);
    const publish = async (alerts: Alert[]) => {
      for (const a of alerts) await js.publish(`${t.alertsSubject}.${a.severity}`, JSON.stringify(alertRecord(a)), { msgID: a.id });
    };
    const first = Array.from({ length: 5 }, (_, i) => makeAlert({ id: `feed-a${i}` }));
    await publish(first);
    expect(await follow()).toEqual(first.map((a) => a.id));
    // Restarts with nothing new: nothing again (the second recreates the consumer at a start
    // sequence, the third used to find an ack floor of 0 there and start over).
    expect(await follow()).toEqual([]);
    expect(await follow()).toEqual([]);
    expect(await follow()).toEqual([]);
    const more = [makeAlert({ id: "feed-b0" }), makeAlert({ id: "feed-b1" })];
    await publish(more);
    expect(await follow()).toEqual(more.map((a) => a.id));
    expect(await follow()).toEqual([]);
  });
});
