/**
 * Notifications and webhooks. `notify(channel, message)` posts a message to the channel's
 * webhook — generic JSON or Slack-compatible (`{text, blocks}`) — and to every escalation
 * channel whose minimum severity the alert reaches; `webhook(name)` posts the alert record as
 * JSON to the named target. Targets are configured by name (see docs/responders.md).
 */
import { SEVERITIES, type Severity } from "../../dsl/index.js";
import { maskValue } from "../../engine/mask.js";
import { alertRecord } from "../../engine/alert-record.js";
import type { Alert } from "../../engine/alert.js";
import type { ActionOutcome, Responder, ResponseAction, ResponseContext } from "../../engine/response.js";
import { textArg } from "./args.js";
import { post, redact } from "./http.js";
import { PermanentError } from "./resilience.js";

export interface ChannelConfig {
  readonly url: string;
  /** `json` (default) or `slack`. */
  readonly format?: "json" | "slack";
  /** Sent as `Authorization: Bearer <token>` when given. */
  readonly token?: string;
}

export interface EscalationRule {
  /** Alerts at or above this severity … */
  readonly min_severity: Severity;
  /** … also go to these channels. */
  readonly channels: readonly string[];
}

export interface NotifyOptions {
  readonly channels: Readonly<Record<string, ChannelConfig>>;
  readonly escalation?: readonly EscalationRule[];
}

const rank = (s: Severity | undefined) => (s === undefined ? -1 : SEVERITIES.indexOf(s));

/** The text of a notification. */
export function notificationText(
  alert: Alert | undefined,
  a: ResponseAction,
  message: string | undefined,
): string {
  const head =
    alert === undefined
      ? `Vigil alert ${a.alert_id}`
      : `[${alert.severity.toUpperCase()}] ${alert.title} (${alert.rule})`;
  const keys =
    alert === undefined
      ? ""
      : Object.entries(alert.keys)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(", ");
  return [head, keys === "" ? undefined : keys, message]
    .filter((x) => x !== undefined && x !== "")
    .join(" — ");
}

/** The JSON body for a channel: generic or Slack-compatible. */
export function notificationBody(
  format: "json" | "slack",
  channel: string,
  alert: Alert | undefined,
  a: ResponseAction,
  message: string | undefined,
): Record<string, unknown> {
  const text = notificationText(alert, a, message);
  if (format === "slack") {
    return {
      text,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text } },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: `alert ${a.alert_id}${a.incident_id === null ? "" : ` · incident ${a.incident_id}`} · action ${a.id}`,
            },
          ],
        },
      ],
    };
  }
  return {
    text,
    channel,
    severity: alert?.severity ?? null,
    rule: alert?.rule ?? null,
    title: alert?.title ?? null,
    keys: alert?.keys ?? {},
    message: message ?? null,
    alert_id: a.alert_id,
    incident_id: a.incident_id,
    action_id: a.id,
  };
}

export class NotifyResponder implements Responder {
  readonly kind = "notify";
  readonly actions = ["notify", "webhook"] as const;
  /** Targets already reached per action, so a retry does not post twice. */
  private readonly sent = new Map<string, Set<string>>();

  constructor(private readonly opts: NotifyOptions) {}

  /** The channels an action posts to: its own, then escalations the alert's severity reaches. */
  targets(a: ResponseAction, alert: Alert | undefined): string[] {
    const first = textArg(a.args, a.action === "webhook" ? "name" : "channel");
    if (first === undefined) return [];
    const out = [first];
    if (a.action === "notify") {
      for (const e of this.opts.escalation ?? [])
        if (rank(alert?.severity) >= rank(e.min_severity))
          for (const c of e.channels) if (!out.includes(c)) out.push(c);
    }
    return out;
  }

  describe(a: ResponseAction): string {
    const t = this.targets(a, undefined);
    return `POST to ${t.map((c) => (this.opts.channels[c] === undefined ? `${c} (not configured)` : `${c} ${redact(this.opts.channels[c].url)}`)).join(", ")}`;
  }

  async execute(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    const targets = this.targets(a, ctx.alert);
    const missing = targets.filter((t) => this.opts.channels[t] === undefined);
    if (targets.length === 0) return { status: "failed", reason: "no channel named" };
    if (missing.length === targets.length)
      throw new PermanentError(`channel ${missing.join(", ")} is not configured`);
    const sent = this.sent.get(a.id) ?? new Set<string>();
    this.sent.set(a.id, sent);
    if (this.sent.size > 10_000) this.sent.delete(this.sent.keys().next().value!); // actions that failed for good
    const message = textArg(a.args, "message");
    for (const name of targets) {
      const ch = this.opts.channels[name];
      if (ch === undefined || sent.has(name)) continue;
      const body =
        a.action === "webhook"
          ? {
              ...(ctx.alert === undefined ? { id: a.alert_id } : alertRecord(ctx.alert)),
              incident_id: a.incident_id,
              action_id: a.id,
            }
          : notificationBody(ch.format ?? "json", name, ctx.alert, a, message);
      const headers: Record<string, string> = {};
      if (ch.token !== undefined) headers.authorization = `Bearer ${ch.token}`;
      await post(ch.url, maskValue(body), { headers, signal: ctx.signal }); // nothing sensitive leaves unmasked
      sent.add(name);
    }
    this.sent.delete(a.id);
    return {
      status: "done",
      detail: `posted to ${targets.filter((t) => !missing.includes(t)).join(", ")}${missing.length > 0 ? ` (not configured: ${missing.join(", ")})` : ""}`,
    };
  }
}
