/**
 * Account controls sent to an identity provider's webhook: a JSON POST
 * `{op: "lock"|"unlock"|"require_mfa"|"clear_mfa", account, until, expires_at, action_id, alert_id}`
 * with an optional bearer token; `Idempotency-Key` is `<action id>:<op>`.
 */
import type { ActionOutcome, Responder, ResponseAction, ResponseContext } from "../../engine/response.js";
import { textArg } from "./args.js";
import { post, redact } from "./http.js";

export interface IdpWebhookOptions {
  readonly url: string;
  readonly token?: string;
}

const OPS: Readonly<Record<string, readonly [string, string | undefined]>> = {
  lock_account: ["lock", "unlock"],
  unlock_account: ["unlock", undefined],
  require_mfa: ["require_mfa", "clear_mfa"],
};

export class IdpWebhookResponder implements Responder {
  readonly kind = "idp";
  readonly actions = ["lock_account", "unlock_account", "require_mfa"] as const;

  constructor(private readonly opts: IdpWebhookOptions) {}

  describe(a: ResponseAction): string {
    return `POST ${redact(this.opts.url)} ${OPS[a.action]?.[0] ?? a.action}`;
  }

  private async send(a: ResponseAction, reverse: boolean, ctx: ResponseContext): Promise<ActionOutcome> {
    const op = OPS[a.action]?.[reverse ? 1 : 0];
    if (op === undefined)
      return { status: "skipped", reason: reverse ? "nothing to undo" : `idp does not handle ${a.action}` };
    const account = textArg(a.args, "account");
    if (account === undefined) return { status: "failed", reason: "missing argument account" };
    const until = reverse ? null : a.until;
    const body = {
      op,
      account,
      until,
      expires_at: until === null ? null : new Date(until).toISOString(),
      action_id: a.id,
      alert_id: a.alert_id,
      issued_at: new Date(ctx.now).toISOString(),
    };
    const headers: Record<string, string> = { "idempotency-key": `${a.id}:${op}` };
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    await post(this.opts.url, body, { headers, signal: ctx.signal });
    return { status: "done", detail: `${op} ${account}` };
  }

  execute(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    return this.send(a, false, ctx);
  }

  reverse(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    return this.send(a, true, ctx);
  }
}
