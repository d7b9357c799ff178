/**
 * The catalogue of response actions a rule may name in `then`. It lives with the language
 * so the checker can verify names and arguments; the responders (connectors/) implement
 * exactly these actions.
 */

export type ActionParamType = "string" | "ip" | "duration" | "number" | "boolean";

export interface ActionParamSpec {
  readonly name: string;
  readonly type: ActionParamType;
  readonly required: boolean;
  /** Default when not given: a number of ms for durations. */
  readonly default?: string | number | boolean;
  readonly doc: string;
}

export interface ActionSpec {
  readonly name: string;
  readonly doc: string;
  readonly params: readonly ActionParamSpec[];
  /** Whether the responder undoes it when its duration ends. */
  readonly reversible: boolean;
}

const p = (
  name: string,
  type: ActionParamType,
  required: boolean,
  doc: string,
  def?: string | number | boolean,
): ActionParamSpec => (def === undefined ? { name, type, required, doc } : { name, type, required, doc, default: def });

const specs: ActionSpec[] = [
  {
    name: "block_ip",
    doc: "Block an address at the gateways and firewalls for a while.",
    params: [p("ip", "ip", true, "the address to block"), p("for", "duration", false, "how long", 3_600_000)],
    reversible: true,
  },
  { name: "unblock_ip", doc: "Lift a block.", params: [p("ip", "ip", true, "the address to unblock")], reversible: false },
  {
    name: "lock_account",
    doc: "Lock an account so that the auth service refuses it (platform policy: 300 s).",
    params: [p("account", "string", true, "the account name"), p("for", "duration", false, "how long", 300_000)],
    reversible: true,
  },
  { name: "unlock_account", doc: "Unlock an account.", params: [p("account", "string", true, "the account name")], reversible: false },
  {
    name: "require_mfa",
    doc: "Require a second factor at the account's next login (until cleared, unless `for` is given).",
    params: [p("account", "string", true, "the account name"), p("for", "duration", false, "how long")],
    reversible: true,
  },
  {
    name: "isolate_host",
    doc: "Ask the host agent to isolate a host from the network.",
    params: [p("host", "string", true, "the host name"), p("for", "duration", false, "how long")],
    reversible: true,
  },
  {
    name: "notify",
    doc: "Notify a channel (a webhook target configured by name).",
    params: [p("channel", "string", true, "the channel name, e.g. soc"), p("message", "string", false, "extra text")],
    reversible: false,
  },
  {
    name: "webhook",
    doc: "POST the alert as JSON to a configured webhook.",
    params: [p("name", "string", true, "the webhook's configured name")],
    reversible: false,
  },
  {
    name: "open_incident",
    doc: "Open an incident even where the pipeline would only record the alert.",
    params: [p("title", "string", false, "the incident title")],
    reversible: false,
  },
];

export const ACTION_CATALOGUE: ReadonlyMap<string, ActionSpec> = new Map(specs.map((s) => [s.name, s]));
