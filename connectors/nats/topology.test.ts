/** Provisioning against the real NATS server (2.9): idempotent, and a changed limit is applied. */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { expect, test } from "vitest";
import { natsUrl, uniqueName } from "../../test/support/services.js";
import { provision, topologyForPrefix } from "./topology.js";

test("provisioning twice changes nothing; a changed max_bytes reaches the existing streams", async () => {
  const nc = await connect({ servers: natsUrl() });
  const jsm = await jetstreamManager(nc);
  const t = topologyForPrefix(uniqueName("topo"));
  try {
    await provision(jsm, { ...t, maxBytes: 64 * 1024 * 1024 }, 1000);
    await provision(jsm, { ...t, maxBytes: 64 * 1024 * 1024 }, 1000);
    expect((await jsm.streams.info(t.eventsStream)).config.max_bytes).toBe(64 * 1024 * 1024);
    await provision(jsm, { ...t, maxBytes: 32 * 1024 * 1024 }, 1000);
    expect((await jsm.streams.info(t.eventsStream)).config.max_bytes).toBe(32 * 1024 * 1024);
  } finally {
    for (const s of [t.eventsStream, t.alertsStream, t.deadLetterStream]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  }
});
