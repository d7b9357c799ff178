/**
 * Commands for the platform's agents on NATS, published into a JetStream stream that Vigil
 * provisions (so nothing is lost while no agent listens):
 * - `<prefix>.commands.firewall`: `{op: "block"|"unblock", ip, until, …}` for firewall agents;
 * - `<prefix>.commands.account`: `{op: "lock"|"unlock"|"require_mfa"|"clear_mfa", account, until, …}`;
 * - `<prefix>.commands.host`: `{op: "isolate"|"release", host, until, …}` for host agents.
 * Each message's id (`Nats-Msg-Id`) is `<action id>:<op>`, so a retry is stored once.
 */
import { type JetStreamClient, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import type { ActionOutcome, Responder, ResponseAction, ResponseContext } from "../../engine/response.js";
import { canonicalIp, textArg } from "./args.js";
import { PermanentError } from "./resilience.js";

export interface CommandTopology {
  /** Subject prefix: commands go to `<subjectPrefix>.commands.<target>`. Default `security`. */
  readonly subjectPrefix: string;
  /** Stream holding `<subjectPrefix>.commands.>`. Default `SECURITY_COMMANDS`. */
  readonly stream: string;
}

export const DEFAULT_COMMAND_TOPOLOGY: CommandTopology = {
  subjectPrefix: "security",
  stream: "SECURITY_COMMANDS",
};

export function commandTopologyForPrefix(prefix: string): CommandTopology {
  return { subjectPrefix: prefix, stream: `${prefix.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}_COMMANDS` };
}

const ns = (ms: number) => ms * 1_000_000;

/** Creates the commands stream if it is missing (idempotent; NATS 2.9 features only). */
export async function provisionCommandStream(jsm: JetStreamManager, t: CommandTopology): Promise<void> {
  const subjects = [`${t.subjectPrefix}.commands.>`];
  try {
    const info = await jsm.streams.info(t.stream);
    if (JSON.stringify(info.config.subjects) !== JSON.stringify(subjects))
      await jsm.streams.update(t.stream, { ...info.config, subjects });
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({
      name: t.stream,
      subjects,
      storage: StorageType.File,
      max_age: ns(7 * 86_400_000),
      duplicate_window: ns(10 * 60_000),
    });
  }
}

interface Command {
  readonly target: "firewall" | "account" | "host";
  readonly body: Record<string, unknown>;
}

export class NatsCommandResponder implements Responder {
  readonly kind = "nats";
  readonly actions = [
    "block_ip",
    "unblock_ip",
    "lock_account",
    "unlock_account",
    "require_mfa",
    "isolate_host",
  ] as const;

  constructor(
    private readonly js: JetStreamClient,
    private readonly topology: CommandTopology = DEFAULT_COMMAND_TOPOLOGY,
  ) {}

  subject(target: Command["target"]): string {
    return `${this.topology.subjectPrefix}.commands.${target}`;
  }

  /** The command for an action (reverse: the one that undoes it). */
  command(a: ResponseAction, reverse: boolean): Command | undefined {
    const until = reverse ? null : a.until;
    const meta = {
      action_id: a.id,
      alert_id: a.alert_id,
      until,
      expires_at: until === null ? null : new Date(until).toISOString(),
    };
    const ip = () => {
      const v = canonicalIp(textArg(a.args, "ip"));
      if (v === undefined) throw new PermanentError(`not an address: ${JSON.stringify(a.args.ip)}`);
      return v;
    };
    const text = (name: string) => {
      const v = textArg(a.args, name);
      if (v === undefined) throw new PermanentError(`missing argument ${name}`);
      return v;
    };
    switch (a.action) {
      case "block_ip":
        return { target: "firewall", body: { op: reverse ? "unblock" : "block", ip: ip(), ...meta } };
      case "unblock_ip":
        return reverse ? undefined : { target: "firewall", body: { op: "unblock", ip: ip(), ...meta } };
      case "lock_account":
        return {
          target: "account",
          body: { op: reverse ? "unlock" : "lock", account: text("account"), ...meta },
        };
      case "unlock_account":
        return reverse
          ? undefined
          : { target: "account", body: { op: "unlock", account: text("account"), ...meta } };
      case "require_mfa":
        return {
          target: "account",
          body: { op: reverse ? "clear_mfa" : "require_mfa", account: text("account"), ...meta },
        };
      case "isolate_host":
        return { target: "host", body: { op: reverse ? "release" : "isolate", host: text("host"), ...meta } };
      default:
        return undefined;
    }
  }

  describe(a: ResponseAction): string {
    try {
      const c = this.command(a, false);
      return c === undefined ? "nothing" : `publish ${this.subject(c.target)} ${String(c.body.op)}`;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private async send(a: ResponseAction, reverse: boolean, ctx: ResponseContext): Promise<ActionOutcome> {
    const c = this.command(a, reverse);
    if (c === undefined)
      return { status: "skipped", reason: reverse ? "nothing to undo" : `nats does not handle ${a.action}` };
    const body = { ...c.body, issued_at: new Date(ctx.now).toISOString() };
    const subject = this.subject(c.target);
    const ack = await this.js.publish(subject, JSON.stringify(body), {
      msgID: `${a.id}:${String(c.body.op)}`,
      timeout: 5_000,
    });
    return {
      status: "done",
      detail: `${subject} ${String(c.body.op)} (stream ${ack.stream} #${ack.seq}${ack.duplicate ? ", duplicate" : ""})`,
    };
  }

  execute(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    return this.send(a, false, ctx);
  }

  reverse(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    return this.send(a, true, ctx);
  }
}
