import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EngineEvent } from "../../engine/index.js";
import { natsUrl, uniqueName } from "../../test/support/services.js";
import { readStreamBaseline } from "./jetstream-baseline.js";

describe("readStreamBaseline (real NATS JetStream)", () => {
  let nc: NatsConnection;
  const stream = uniqueName("BASELINE").toUpperCase();
  const subject = uniqueName("baseline");
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream);
    await nc.close();
  });

  test("keeps the events whose event time is in [from, to), reading what was stored when it started", async () => {
    const js = jetstream(nc);
    const t0 = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 30; i++) {
      await js.publish(`${subject}.auth.authentication`, JSON.stringify({ "@timestamp": new Date(t0 + i * 60_000).toISOString(), "event.id": `e${i}`, n: i }));
    }
    await js.publish(`${subject}.auth.authentication`, "not json");
    const got: EngineEvent[] = [];
    const stats = await readStreamBaseline(nc, stream, { fromMs: t0 + 10 * 60_000, toMs: t0 + 20 * 60_000 }, (ev) => got.push(ev));
    expect(got.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, k) => `e${k + 10}`));
    expect(stats).toEqual({ messages: 31, events: 10, undecodable: 1 });
    // The stream is left as it was.
    expect((await (await jetstreamManager(nc)).streams.info(stream)).state.messages).toBe(31);
  });
});
