/** POSTs to webhooks, identity providers and SIEMs: a 5xx, 408, 429 or a network error is worth retrying, any other 4xx is not. */
import { PermanentError } from "./resilience.js";

export interface PostOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

/** POSTs `body` (a string as is, anything else as JSON); resolves with the response text on 2xx. */
export async function post(url: string, body: unknown, opts: PostOptions = {}): Promise<string> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body: text,
      headers: { "content-type": opts.contentType ?? "application/json", ...opts.headers },
      signal: opts.signal,
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`POST ${redact(url)}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const answer = await res.text();
  if (res.ok) return answer;
  const msg = `POST ${redact(url)} answered ${res.status}: ${answer.slice(0, 200)}`;
  if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Error(msg);
  throw new PermanentError(msg);
}

/** A URL without its credentials and query (which may hold a token), for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<bad url>";
  }
}
