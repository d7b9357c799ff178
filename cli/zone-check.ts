/** Checks an IANA time-zone name given on the command line or in the configuration. */

/** Why `tz` is not a time zone this Node.js knows, or undefined when it is one. */
export function zoneProblem(tz: string): string | undefined {
  if (tz === "UTC") return undefined;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}": expected an IANA zone name such as "UTC" or "Europe/Berlin"`;
  }
}
