/**
 * OpenSSH server messages → ECS fields (flat dotted keys).
 *
 * One dispatch on the message's first word picks the single anchored regex (or plain string
 * test) that can apply. Regexes are linear: each variable part is `\S+` between literals or a
 * single `.*`/`.*?` whose end is fixed by the literal tail, so a 64 KiB line costs one pass
 * plus bounded backtracking. User names are taken verbatim (an attacker's `" 0101"` keeps its
 * space) and may contain spaces: the address is always the last ` from A port P` of the line.
 *
 * Lines that lack the remote address (`input_userauth_request`, `check pass`, `Too many
 * authentication failures`, PAM sessions, a PAM failure with an empty `rhost=`) get it from the
 * most recent line of the same host and pid that carried one ({@link SshdEnricher}).
 */
import type { EventFields } from "../../engine/event.js";
import { RingQueue } from "../../engine/state/ring-queue.js";
import { classifyAddress, setSourceFields, type RemoteAddress } from "./address.js";

/** True for the program names OpenSSH logs under (`sshd-session`/`sshd-auth` since OpenSSH 9.8/10). */
export function isSshdProgram(program: string | undefined): boolean {
  return program === "sshd" || program === "sshd-session" || program === "sshd-auth";
}

/** What a parsed message says about the remote address: carried one, wants one, or neither. */
type AddressNeed = RemoteAddress | boolean;

const FAILED = /^Failed (\S+) for (invalid user )?(.*) from (\S+) port (\d+)(?: ssh\d?)?(?:: .*)?$/;
const ACCEPTED = /^Accepted (\S+) for (.*) from (\S+) port (\d+)(?: ssh\d?)?(?:: .*)?$/;
const INVALID = /^(?:Invalid|Illegal) user (.*) from (\S+)(?: port (\d+))?$/;
const INPUT_USERAUTH = /^input_userauth_request: invalid user (.*)$/;
const MAX_AUTH = /^maximum authentication attempts exceeded for (invalid user )?(.*) from (\S+) port (\d+)(?: ssh\d?)?$/;
const TOO_MANY = /^Disconnecting: Too many authentication failures(?: for (invalid user )?(.*))?$/;
const TOO_MANY_USER = /^Disconnecting (authenticating |invalid )?user (.*) (\S+) port (\d+): Too many authentication failures$/;
const CONN_CLOSED = /^Connection closed by (?:(authenticating |invalid )user (.*?) )?(\S+)(?: port (\d+))?$/;
const DISCONNECTED = /^Disconnected from (?:(authenticating |invalid )?user (.*?) )?(\S+)(?: port (\d+))?$/;
const NO_IDENT = /^Did not receive identification string from (\S+)(?: port (\d+))?$/;
const REVERSE = /^reverse mapping checking getaddrinfo for (\S+) \[([^\]\s]+)\] failed/;
const ADDRESS_MAPS = /^Address (\S+) maps to ([^\s,]+), but this does not map back to the address/;
const SESSION_OPENED = /^session opened for user (.+?)(?:\(uid=(\d+)\))? by /;
const SESSION_CLOSED = /^session closed for user (.+?)(?:\(uid=(\d+)\))?$/;

const PREAUTH = " [preauth]";

function setEvent(out: EventFields, action: string, category: string, type: string, outcome: string): void {
  out["event.action"] = action;
  out["event.category"] = category;
  out["event.type"] = type;
  out["event.outcome"] = outcome;
}

function setUser(out: EventFields, user: string | undefined): void {
  if (user !== undefined && user !== "") out["user.name"] = user;
}

function setPort(out: EventFields, port: string | undefined): void {
  if (port === undefined) return;
  const p = Number(port);
  if (p <= 65_535) out["source.port"] = p;
}

/** Sets the source fields of an address and returns it for the pid memory (true when unusable). */
function setAddress(out: EventFields, address: string | undefined): AddressNeed {
  if (address === undefined) return true;
  const a = classifyAddress(address);
  if (a === undefined) return true;
  setSourceFields(out, a);
  return a;
}

const FAILED_ACTIONS = new Map<string, string>();
const ACCEPTED_ACTIONS = new Map<string, string>();

/** `ssh_failed_keyboard_interactive_pam` for "keyboard-interactive/pam", memoised (bounded). */
function methodAction(accepted: boolean, method: string): string {
  if (method === "password") return accepted ? "ssh_accepted_password" : "ssh_failed_password";
  const cache = accepted ? ACCEPTED_ACTIONS : FAILED_ACTIONS;
  let action = cache.get(method);
  if (action === undefined) {
    action = (accepted ? "ssh_accepted_" : "ssh_failed_") + method.toLowerCase().replace(/[^a-z0-9]/g, "_");
    if (cache.size < 128) cache.set(method, action);
  }
  return action;
}

function authResult(
  out: EventFields,
  accepted: boolean,
  method: string,
  invalid: string | undefined,
  user: string | undefined,
  address: string | undefined,
  port: string | undefined,
): AddressNeed {
  // A rejected public key of a valid account is a client offering its keys in turn, not an
  // attempt against the account: fail2ban's sshd filter does not count it, nor do we.
  const attempt = accepted || method !== "publickey" || invalid !== undefined;
  setEvent(out, methodAction(accepted, method), "authentication", attempt ? "start" : "info", accepted ? "success" : "failure");
  out["ssh.method"] = method;
  setUser(out, user);
  if (invalid !== undefined) out["ssh.invalid_user"] = true;
  setPort(out, port);
  return setAddress(out, address);
}

/**
 * `authentication failure; … rhost=H  user=U` / `check pass; user unknown` (PAM, either tag
 * form), starting at `at` in `body`.
 */
function pamAuth(body: string, at: number, out: EventFields, attempt: boolean): AddressNeed | undefined {
  if (body.startsWith("check pass; user unknown", at)) {
    setEvent(out, "pam_check_pass_user_unknown", "authentication", "info", "failure");
    return true;
  }
  if (!body.startsWith("authentication failure;", at)) return undefined;
  setEvent(out, "pam_auth_failure", "authentication", attempt ? "start" : "info", "failure");
  const r = body.indexOf(" rhost=", at);
  let rhost: string | undefined;
  let from = at;
  if (r >= 0) {
    let e = body.indexOf(" ", r + 7);
    if (e < 0) e = body.length;
    rhost = body.slice(r + 7, e);
    from = e;
  }
  const u = body.indexOf(" user=", from);
  if (u >= 0) setUser(out, body.slice(u + 6).trim());
  return setAddress(out, rhost);
}

/** `session opened for user U by …` / `session closed for user U` (PAM, either tag form). */
function pamSession(rest: string, out: EventFields): AddressNeed | undefined {
  let m = SESSION_OPENED.exec(rest);
  if (m !== null) setEvent(out, "ssh_session_opened", "session", "start", "success");
  else {
    m = SESSION_CLOSED.exec(rest);
    if (m === null) return undefined;
    setEvent(out, "ssh_session_closed", "session", "end", "success");
  }
  setUser(out, m[1]);
  if (m[2] !== undefined) out["user.id"] = m[2];
  return true;
}

function network(out: EventFields, action: string, type: string, outcome: string, user: string | undefined, address: string | undefined, port: string | undefined): AddressNeed {
  setEvent(out, action, "network", type, outcome);
  setUser(out, user);
  setPort(out, port);
  return setAddress(out, address);
}

function breakIn(out: EventFields, address: string | undefined, host: string | undefined): AddressNeed {
  setEvent(out, "ssh_possible_break_in", "intrusion_detection", "info", "unknown");
  const a = setAddress(out, address);
  if (host !== undefined) out["source.domain"] = host;
  return a;
}

/**
 * Dispatches on the message's first word (a switch on its first character, then one
 * `startsWith`); undefined when the message is none of the known forms.
 */
function dispatch(body: string, out: EventFields, nested: boolean): AddressNeed | undefined {
  let m: RegExpExecArray | null;
  switch (body.charCodeAt(0)) {
    case 70: // F
      if (!body.startsWith("Failed ")) return undefined;
      m = FAILED.exec(body);
      return m === null ? undefined : authResult(out, false, m[1] ?? "", m[2], m[3], m[4], m[5]);
    case 65: // A
      if (body.startsWith("Accepted ")) {
        m = ACCEPTED.exec(body);
        return m === null ? undefined : authResult(out, true, m[1] ?? "", undefined, m[2], m[3], m[4]);
      }
      if (!body.startsWith("Address ")) return undefined;
      m = ADDRESS_MAPS.exec(body);
      return m === null ? undefined : breakIn(out, m[1], m[2]);
    case 73: // I
      if (!body.startsWith("Invalid user ") && !body.startsWith("Illegal user ")) return undefined;
      m = INVALID.exec(body);
      if (m === null) return undefined;
      setEvent(out, "ssh_invalid_user", "authentication", "start", "failure");
      setUser(out, m[1]);
      setPort(out, m[3]);
      return setAddress(out, m[2]);
    case 105: // i
      if (!body.startsWith("input_userauth_request: ")) return undefined;
      m = INPUT_USERAUTH.exec(body);
      if (m === null) return undefined;
      setEvent(out, "ssh_invalid_user_request", "authentication", "info", "failure");
      setUser(out, m[1]);
      return true;
    case 101: // e
      if (nested || !body.startsWith("error: ")) return undefined;
      m = MAX_AUTH.exec(body.slice(7));
      if (m === null) return dispatch(body.slice(7), out, true);
      setEvent(out, "ssh_max_auth_attempts", "authentication", "start", "failure");
      setUser(out, m[2]);
      if (m[1] !== undefined) out["ssh.invalid_user"] = true;
      setPort(out, m[4]);
      return setAddress(out, m[3]);
    case 68: // D
      return disconnectForms(body, out);
    case 67: // C
      if (!body.startsWith("Connection closed by ")) return undefined;
      m = CONN_CLOSED.exec(body);
      if (m === null) return undefined;
      if (m[1] === "invalid ") out["ssh.invalid_user"] = true;
      return network(out, "ssh_connection_closed", "end", "unknown", m[2], m[3], m[4]);
    case 82: // R
      return received(body, out);
    case 114: // r
      if (!body.startsWith("reverse mapping ")) return undefined;
      m = REVERSE.exec(body);
      return m === null ? undefined : breakIn(out, m[2], m[1]);
    case 112: {
      // p: pam_unix(sshd:auth): …, pam_unix(sshd:session): … (any pam_* module)
      if (!body.startsWith("pam_")) return undefined;
      const sp = body.indexOf(" ");
      if (sp < 0) return undefined;
      if (body.startsWith("(sshd:auth):", sp - 12)) return pamAuth(body, sp + 1, out, false);
      if (body.startsWith("(sshd:session):", sp - 15)) return pamSession(body.slice(sp + 1), out);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** `Disconnecting: …`, `Disconnecting … user …: Too many …`, `Disconnected from …`, `Did not receive …`. */
function disconnectForms(body: string, out: EventFields): AddressNeed | undefined {
  let m: RegExpExecArray | null;
  if (body.startsWith("Disconnected from ")) {
    m = DISCONNECTED.exec(body);
    if (m === null) return undefined;
    if (m[1] === "invalid ") out["ssh.invalid_user"] = true;
    return network(out, "ssh_disconnected", "end", "unknown", m[2], m[3], m[4]);
  }
  if (body.startsWith("Disconnecting: ")) {
    m = TOO_MANY.exec(body);
    if (m === null) return undefined;
    setEvent(out, "ssh_too_many_auth_failures", "authentication", "start", "failure");
    setUser(out, m[2]);
    if (m[1] !== undefined) out["ssh.invalid_user"] = true;
    return true;
  }
  if (body.startsWith("Disconnecting ")) {
    m = TOO_MANY_USER.exec(body);
    if (m === null) return undefined;
    setEvent(out, "ssh_too_many_auth_failures", "authentication", "start", "failure");
    setUser(out, m[2]);
    if (m[1] === "invalid ") out["ssh.invalid_user"] = true;
    setPort(out, m[4]);
    return setAddress(out, m[3]);
  }
  if (body.startsWith("Did not receive identification string from ")) {
    m = NO_IDENT.exec(body);
    return m === null ? undefined : network(out, "ssh_no_identification", "info", "failure", undefined, m[1], m[2]);
  }
  return undefined;
}

/** Index after the ASCII digits starting at `i` (i itself when there are none). */
function digitsEnd(s: string, i: number): number {
  let j = i;
  for (let c = s.charCodeAt(j); c >= 48 && c <= 57; c = s.charCodeAt(++j));
  return j;
}

const RECEIVED = "Received disconnect from ";

/**
 * `Received disconnect from A port P:N: text` and the older `Received disconnect from A: N: text`
 * (the address is one token, so a plain scan does it; no regex on this frequent line).
 */
function received(body: string, out: EventFields): AddressNeed | undefined {
  if (!body.startsWith(RECEIVED)) return undefined;
  const a = RECEIVED.length;
  const sp = body.indexOf(" ", a);
  if (sp <= a + 1) return undefined;
  let address: string;
  let port: string | undefined;
  let c: number; // start of the code
  if (body.startsWith(" port ", sp)) {
    const pe = digitsEnd(body, sp + 6);
    if (pe === sp + 6 || body.charCodeAt(pe) !== 58) return undefined;
    address = body.slice(a, sp);
    port = body.slice(sp + 6, pe);
    c = pe + 1;
  } else {
    if (body.charCodeAt(sp - 1) !== 58) return undefined; // "A: N:"
    address = body.slice(a, sp - 1);
    c = sp + 1;
  }
  const ce = digitsEnd(body, c);
  if (ce === c || body.charCodeAt(ce) !== 58) return undefined;
  const code = Number(body.slice(c, ce));
  out["ssh.disconnect_code"] = code;
  // Code 3 (SSH2_DISCONNECT_AUTH_CANCELLED...) ending in "Auth fail": a client library (JSch)
  // giving up after a rejected password; fail2ban counts it as a failed attempt, and so do we.
  if (code === 3 && /: Auth fail(?: \[preauth\])?$/.test(body)) {
    setEvent(out, "ssh_disconnect_auth_fail", "authentication", "start", "failure");
    setPort(out, port);
    return setAddress(out, address);
  }
  return network(out, "ssh_disconnect_received", "end", "unknown", undefined, address, port);
}

/**
 * Writes the ECS fields of sshd message `message` into `out`. `legacyPam` is for the old
 * `sshd(pam_unix)[pid]: …` tag, whose `authentication failure` line is the attempt itself (the
 * modern one is the companion of the `Failed password` line that follows).
 */
function parseInto(message: string, legacyPam: boolean, out: EventFields): AddressNeed {
  out["service.name"] = "sshd";
  out["event.dataset"] = "sshd";
  out["event.module"] = "system";
  let body = message;
  if (body.endsWith(PREAUTH)) {
    body = body.slice(0, body.length - PREAUTH.length);
    out["ssh.preauth"] = true;
  }
  const r = legacyPam ? (pamAuth(body, 0, out, true) ?? pamSession(body, out)) : dispatch(body, out, false);
  if (r !== undefined) return r;
  out["event.action"] = "ssh_other";
  return false;
}

/** The ECS fields of one sshd message, without pid memory (stateless). */
export function parseSshdMessage(message: string, legacyPam = false): EventFields {
  const out: EventFields = {};
  parseInto(message, legacyPam, out);
  return out;
}

export const DEFAULT_MAX_PIDS = 65_536;
/** Host numbers × 2^32 + pid stay exact doubles below 2^53. */
const MAX_HOST_NUMBERS = 2 ** 21;
const PID_SPAN = 2 ** 32;

/** sshd enrichment with a bounded host+pid → remote address memory (one per decoder). */
export class SshdEnricher {
  /** (host number × 2^32 + pid) → address, in insertion order (the first is the oldest). */
  private readonly addresses = new Map<number, RemoteAddress>();
  /** The keys of `addresses` in insertion order, for eviction. */
  private readonly order = new RingQueue<number>();
  /** Host name → number for numeric keys (bounded like the pids); the last host is cached. */
  private readonly hosts = new Map<string, number>();
  private nextHostNo = 0;
  private lastHost = "";
  private lastHostNo = -1;
  /** The last key seen and its address (still right for that pid even if the map evicted it). */
  private lastKey = -1;
  private lastAddress: RemoteAddress | undefined;

  constructor(private readonly maxPids = DEFAULT_MAX_PIDS) {}

  private hostNo(host: string): number {
    if (host === this.lastHost && this.lastHostNo >= 0) return this.lastHostNo;
    let n = this.hosts.get(host);
    if (n === undefined) {
      if (this.nextHostNo >= MAX_HOST_NUMBERS) {
        // Numbers are never reused while entries may still carry them; when they run out, start over.
        this.hosts.clear();
        this.addresses.clear();
        this.order.clear();
        this.nextHostNo = 0;
        this.lastKey = -1;
        this.lastAddress = undefined;
      } else if (this.hosts.size >= this.maxPids) {
        const oldest = this.hosts.keys().next();
        if (oldest.done !== true) this.hosts.delete(oldest.value);
      }
      n = this.nextHostNo++;
      this.hosts.set(host, n);
    }
    this.lastHost = host;
    this.lastHostNo = n;
    return n;
  }

  /** Adds the sshd fields of `message` (logged by `host` under `pid`) to `out`. */
  enrich(out: EventFields, message: string, host: string, pid: number | undefined, legacyPam: boolean): void {
    const r = parseInto(message, legacyPam, out);
    if (r === false || pid === undefined || pid >= PID_SPAN) return;
    const key = this.hostNo(host) * PID_SPAN + pid;
    if (r === true) {
      // sshd writes several lines per connection in a row: the last key skips the map.
      const a = key === this.lastKey ? this.lastAddress : this.addresses.get(key);
      this.lastKey = key;
      this.lastAddress = a;
      if (a !== undefined) setSourceFields(out, a);
      return;
    }
    if (key === this.lastKey && r === this.lastAddress) return;
    this.lastKey = key;
    this.lastAddress = r;
    const prev = this.addresses.get(key);
    if (prev !== undefined) {
      if (prev !== r && prev.address !== r.address) this.addresses.set(key, r);
      return;
    }
    if (this.addresses.size >= this.maxPids) {
      // Oldest first, through a queue: a Map's first entry is slow to reach after many deletes.
      const oldest = this.order.shift();
      if (oldest !== undefined) this.addresses.delete(oldest);
    }
    this.order.push(key);
    this.addresses.set(key, r);
  }

  /** Number of remembered host+pid addresses (for tests and metrics). */
  get rememberedPids(): number {
    return this.addresses.size;
  }
}
