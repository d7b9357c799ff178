/**
 * Remote-address fields: `source.address` always, `source.ip` for an IPv4/IPv6 literal,
 * `source.domain` for a host name.
 */
import { isIPv6 } from "node:net";
import type { EventFields } from "../../engine/event.js";

/** A classified remote address, kept per sshd pid to fill lines that lack one. */
export interface RemoteAddress {
  readonly address: string;
  readonly ip: string | undefined;
  readonly domain: string | undefined;
}

const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;

/** True for a dotted-quad IPv4 literal (no leading zeros beyond a lone 0). */
export function isIPv4Literal(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  while (i <= n) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + c - 48;
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    parts++;
    if (i === n) return parts === 4;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
  }
  return false;
}

// Brute-force logs repeat one address line after line: remember the last classification.
let lastAddress = "";
let lastClassified: RemoteAddress | undefined;

/** Classifies an address as sshd or PAM logged it; undefined for nothing usable (`""`, `UNKNOWN`). */
export function classifyAddress(address: string): RemoteAddress | undefined {
  if (address === lastAddress) return lastClassified;
  const a = classify(address);
  lastAddress = address;
  lastClassified = a;
  return a;
}

/**
 * A copy of `s` that does not point into the text it was cut from. V8 cuts strings of 13 or
 * more characters as views on the whole decoded chunk (~512 KiB); an address kept as a
 * correlation key would keep its chunk alive for as long as the key lives.
 */
function detached(s: string): string {
  return s.length < 13 ? s : (" " + s).slice(1);
}

function classify(raw: string): RemoteAddress | undefined {
  if (raw === "" || raw === "UNKNOWN") return undefined;
  const address = detached(raw);
  const c = address.charCodeAt(0);
  if (c >= 48 && c <= 57 && isIPv4Literal(address)) return { address, ip: address, domain: undefined };
  if (address.includes(":")) {
    const pct = address.indexOf("%");
    const ip = pct > 0 ? address.slice(0, pct) : address;
    if (isIPv6(ip)) return { address, ip, domain: undefined };
    return { address, ip: undefined, domain: undefined };
  }
  return { address, ip: undefined, domain: HOST_NAME.test(address) ? address : undefined };
}

/** Writes `source.address` / `source.ip` / `source.domain`. */
export function setSourceFields(out: EventFields, a: RemoteAddress): void {
  out["source.address"] = a.address;
  if (a.ip !== undefined) out["source.ip"] = a.ip;
  if (a.domain !== undefined) out["source.domain"] = a.domain;
}
