/**
 * Masking of sensitive values wherever Vigil stores or forwards event data (alert evidence,
 * the audit log, SIEM and webhook payloads): payment card numbers (13–19 digits, spaces or
 * dashes allowed, Luhn-valid), national identifiers (US SSN, UK National Insurance numbers)
 * and secrets (API keys and tokens in known formats, PEM private keys, `password=` values).
 *
 * Masking keeps enough to recognise the value (the last four digits of a card, the first four
 * characters of a key) and never the rest. `maskText` is idempotent. The patterns are bounded
 * (no nested quantifiers) so masking is linear in the text.
 */
import { luhn } from "../dsl/index.js";

/** What was masked, by kind (for metrics and the audit log). */
export interface MaskCounts {
  card: number;
  national_id: number;
  secret: number;
}

// Digit runs of 13–19 digits with single spaces or dashes between them, not inside a longer number.
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g;
const SSN = /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g;
const NINO = /\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;
const TOKENS =
  /\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,255}|glpat-[A-Za-z0-9_-]{20,255}|xox[abposr]-[A-Za-z0-9-]{10,255}|[sr]k_live_[A-Za-z0-9]{16,255}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096})/g;
const PEM = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]{0,16384}?(?:-----END ([A-Z]+ )?PRIVATE KEY-----|$)/g;
const ASSIGNMENT = /\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)(["']?\s*[:=]\s*["']?)([^\s"',;&]{4,512})/gi;

const MASKED = "[masked]";
/** The shortest text any pattern masks: `pwd=` and four characters. */
const MIN_MASKED = 8;

function maskDigitsKeepLast4(s: string): string {
  let keep = 4;
  let out = "";
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s[i]!;
    if (c >= "0" && c <= "9") {
      out = (keep > 0 ? c : "*") + out;
      keep--;
    } else out = c + out;
  }
  return out;
}

/**
 * A run of digit groups may hold a card number that does not span it all ("ref 123 4111…"):
 * the whole run is tried first, then the contiguous group ranges, longest first.
 */
function maskCardRun(run: string, counts: MaskCounts | undefined): string {
  if (luhn(run)) {
    if (counts) counts.card++;
    return maskDigitsKeepLast4(run);
  }
  const groups = run.split(/(?<=\d)(?=[ -])|(?<=[ -])(?=\d)/); // digits and separators, alternating
  const digitsIn = (a: number, b: number) => groups.slice(a, b + 1).join("").replace(/[ -]/g, "").length;
  for (let len = groups.length - 1; len >= 1; len--) {
    for (let a = 0; a + len <= groups.length; a++) {
      const b = a + len - 1;
      if (/^[ -]/.test(groups[a]!) || /^[ -]/.test(groups[b]!)) continue;
      const n = digitsIn(a, b);
      if (n < 13 || n > 19) continue;
      const cand = groups.slice(a, b + 1).join("");
      if (!luhn(cand)) continue;
      if (counts) counts.card++;
      return groups.slice(0, a).join("") + maskDigitsKeepLast4(cand) + maskCardRun(groups.slice(b + 1).join(""), counts);
    }
  }
  return run;
}

/** Masks the sensitive values in a text; counts them in `counts` when given. */
export function maskText(text: string, counts?: MaskCounts): string {
  // Nothing masked is shorter (a `pwd=` assignment of four characters is the shortest).
  if (text.length < MIN_MASKED) return text;
  let s = text;
  if (/\d{4}/.test(s) || /\d[ -]\d/.test(s)) {
    s = s.replace(CARD, (m) => maskCardRun(m, counts));
    s = s.replace(SSN, (m) => {
      if (counts) counts.national_id++;
      return `***-**-${m.slice(-4)}`;
    });
  }
  s = s.replace(NINO, () => {
    if (counts) counts.national_id++;
    return "*********";
  });
  s = s.replace(PEM, () => {
    if (counts) counts.secret++;
    return `-----BEGIN PRIVATE KEY----- ${MASKED}`;
  });
  s = s.replace(TOKENS, (m) => {
    if (counts) counts.secret++;
    return `${m.slice(0, 4)}…${MASKED}`;
  });
  s = s.replace(ASSIGNMENT, (m, key: string, sep: string, value: string) => {
    if (value === MASKED || value.startsWith("[masked")) return m;
    if (counts) counts.secret++;
    return `${key}${sep}${MASKED}`;
  });
  return s;
}

/**
 * Masks every string in a JSON-like value (objects, arrays; keys are kept), returning a copy.
 * Values under keys that name a secret (`password`, `token`, `api_key`, …) are masked whole.
 */
export function maskValue<T>(value: T, counts?: MaskCounts): T {
  return walk(value, counts, 0) as T;
}

const SECRET_KEY = /^(password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key|authorization|cookie)$/i;

function walk(v: unknown, counts: MaskCounts | undefined, depth: number): unknown {
  if (typeof v === "string") return maskText(v, counts);
  if (depth > 64 || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => walk(x, counts, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const last = k.includes(".") ? k.slice(k.lastIndexOf(".") + 1) : k;
    if (SECRET_KEY.test(last) && (typeof x === "string" || typeof x === "number") && String(x) !== "") {
      if (counts) counts.secret++;
      out[k] = MASKED;
    } else out[k] = walk(x, counts, depth + 1);
  }
  return out;
}

/** Fresh zero counts. */
export function maskCounts(): MaskCounts {
  return { card: 0, national_id: 0, secret: 0 };
}
