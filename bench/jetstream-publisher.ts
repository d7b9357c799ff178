/**
 * Publishes synthetic SSH authentication failures into JetStream at a fixed rate, each
 * stamped with its publish time as `@timestamp` (live traffic), for the latency benchmark.
 * Nine in ten come from 2,000 recurring addresses (they build state, alert once each early on,
 * then are suppressed); one in ten from a new attacker every five events, so that alerts are
 * raised all through the run, on a growing state, not only at its start.
 * Runs as its own process: `node dist/bench/jetstream-publisher.js URL SUBJECT RATE SECONDS`.
 * Prints one JSON line when done: {sent, seconds}.
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const [url = "nats://127.0.0.1:4222", subject = "security.events.sshd.authentication", rateArg = "5000", secondsArg = "10"] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const nc = await connect({ servers: url, noAsyncTraces: true });
const js = jetstream(nc);
const total = Math.round(rate * seconds);
const start = Date.now();
let sent = 0;
const run = `${process.pid}-${start}`;
while (sent < total) {
  const due = Math.min(total, Math.floor(((Date.now() - start) * rate) / 1000) + 1);
  const acks: Promise<unknown>[] = [];
  for (; sent < due; sent++) {
    const attacker = sent % 10 === 9 ? Math.floor(sent / 50) : -1;
    const ip = attacker >= 0 ? `203.${(attacker >> 16) & 255}.${(attacker >> 8) & 255}.${attacker & 255}` : `198.51.${(sent % 2000) >> 8}.${sent % 256}`;
    const ev = {
      "@timestamp": new Date().toISOString(),
      "event.id": `lat-${run}-${sent}`,
      "event.category": "authentication",
      "event.outcome": "failure",
      "event.type": "start",
      "service.name": "sshd",
      "source.address": ip,
      "source.ip": ip,
      "user.name": `user${sent % 97}`,
    };
    acks.push(js.publish(subject, JSON.stringify(ev), { msgID: ev["event.id"], timeout: 30_000 }));
  }
  await Promise.all(acks);
  await new Promise((r) => setTimeout(r, 5));
}
console.log(JSON.stringify({ sent, seconds: (Date.now() - start) / 1000 }));
await nc.drain();
