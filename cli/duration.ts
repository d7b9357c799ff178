const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30s`, `5m`, `1h`, `7d` (the rule language's units) in milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)\s*(ms|s|m|h|d|w)$/.exec(text);
  return m === null ? undefined : Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}
