import { connect } from "@nats-io/transport-node";
import { EventPublisher } from "../../connectors/nats/publish.js";
import { DEFAULT_TOPOLOGY, type Topology } from "../../connectors/nats/topology.js";
import type { DecoderFormat } from "../../connectors/parsers/index.js";
import { type LogReadStats, readLogEvents } from "../../connectors/sources/log-file.js";
import type { EngineEvent } from "../../engine/index.js";
import type { Io } from "../io.js";

export interface PublishCliOptions {
  readonly natsUrl: string;
  readonly subject?: string;
  readonly format: DecoderFormat;
  readonly year?: number;
  readonly tz?: string;
  readonly rate: number;
  readonly topology?: Topology;
}

/**
 * `vigil publish`: sends log or event files into JetStream, parsed to ECS with the same event
 * ids `vigil replay` computes and used as message ids (de-duplication).
 */
export async function runPublish(files: readonly string[], o: PublishCliOptions, io: Io): Promise<number> {
  const nc = await connect({ servers: o.natsUrl, name: "vigil publish", noAsyncTraces: true });
  try {
    const pub = new EventPublisher(nc, o.topology ?? DEFAULT_TOPOLOGY, { subject: o.subject, rate: o.rate, inflight: 256 });
    await pub.provision(20_000);
    const stats: LogReadStats = { lines: 0, events: 0, failures: new Map() };
    let seq = 0;
    for (const file of files) {
      const queue: EngineEvent[] = [];
      seq = await readLogEvents(file, { format: o.format, year: o.year, tz: o.tz }, seq, (ev) => queue.push(ev), (f) => io.err(`${f.source}:${f.line}: ${f.reason}: ${f.message}`), stats);
      for (const ev of queue) await pub.publish(ev);
    }
    const sent = await pub.flush();
    io.err(`published ${sent} events from ${stats.lines} lines (${pub.duplicates} already in the stream)`);
    return 0;
  } finally {
    await nc.close();
  }
}
