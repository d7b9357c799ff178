import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { getField, parseEventTime } from "../../engine/event.js";
import { createDecoder, detectFormat, MAX_LINE_BYTES, PARSE_FAILURE_REASONS, type ParseResult } from "./index.js";

const SSH_LINE = "Dec 10 09:11:08 gw1 sshd[24437]: Failed password for root from 203.0.113.40 port 58762 ssh2";

describe("createDecoder", () => {
  it("sets event.id and @timestamp on syslog events", () => {
    const d = createDecoder("sshd", { source: "/var/log/auth.log", year: 2024 });
    const r = d.decode(SSH_LINE, 6);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events[0]?.["event.id"]).toMatch(/^auth\.log:6-[0-9a-f]{8}$/);
    expect(r.events[0]?.["@timestamp"]).toBe("2024-12-10T09:11:08.000Z");
  });

  it("gives the same ids on every run and ignores a CRLF line ending", () => {
    const ids = (line: string) => {
      const r = createDecoder("sshd", { source: "auth.log", year: 2024 }).decode(line, 12);
      return r.ok ? r.events.map((e) => e["event.id"]) : [];
    };
    expect(ids(SSH_LINE)).toEqual(ids(SSH_LINE));
    expect(ids(`${SSH_LINE}\r`)).toEqual(ids(SSH_LINE));
    expect(ids(`${SSH_LINE}\r\n`)).toEqual(ids(SSH_LINE));
    expect(ids(SSH_LINE.replace("58762", "58763"))).not.toEqual(ids(SSH_LINE));
  });

  it("decodes other programs as plain syslog events in sshd and syslog formats alike", () => {
    for (const format of ["sshd", "syslog"] as const) {
      const d = createDecoder(format, { source: "messages", year: 2005 });
      const r = d.decode("Jun 14 15:16:01 mail01 ftpd[24079]: connection from 192.0.2.4 () at Tue Jun 14 15:16:01 2005", 1);
      expect(r).toMatchObject({
        ok: true,
        events: [{ "host.name": "mail01", "process.name": "ftpd", "process.pid": 24079, message: "connection from 192.0.2.4 () at Tue Jun 14 15:16:01 2005", "@timestamp": "2005-06-14T15:16:01.000Z" }],
      });
      if (r.ok) expect(r.events[0]?.["event.action"]).toBeUndefined();
      expect(d.decode(SSH_LINE, 2)).toMatchObject({ ok: true, events: [{ "event.action": "ssh_failed_password" }] });
    }
  });

  it("expands message repeated for any program", () => {
    const d = createDecoder("syslog", { source: "messages", year: 2024 });
    const r = d.decode("Mar  1 10:00:00 h1 cron[12]: message repeated 3 times: [ (root) CMD (run-parts /etc/cron.hourly)]", 9);
    expect(r.ok && r.events.map((e) => [e.message, e["event.id"]])).toEqual([
      ["(root) CMD (run-parts /etc/cron.hourly)", expect.stringMatching(/^messages:9-/)],
      ["(root) CMD (run-parts /etc/cron.hourly)", expect.stringMatching(/^messages:9\.2-/)],
      ["(root) CMD (run-parts /etc/cron.hourly)", expect.stringMatching(/^messages:9\.3-/)],
    ]);
  });

  it("caps message repeated at 10,000 events", () => {
    const d = createDecoder("sshd", { source: "auth.log", year: 2024 });
    const r = d.decode("Mar  1 10:00:00 h1 sshd[12]: message repeated 999999999 times: [ Failed password for root from 192.0.2.1 port 22 ssh2]", 1);
    expect(r.ok && r.events.length).toBe(10_000);
  });

  it("auto decides per line between JSON and syslog", () => {
    const d = createDecoder("auto", { source: "mixed.log", year: 2024 });
    expect(d.decode('{"@timestamp":"2024-03-01T10:00:00Z","event.id":"j1"}', 1)).toMatchObject({ ok: true, events: [{ "event.id": "j1" }] });
    expect(d.decode(`  {"@timestamp":"2024-03-01T10:00:00Z"}`, 2)).toMatchObject({ ok: true });
    expect(d.decode(SSH_LINE, 3)).toMatchObject({ ok: true, events: [{ "event.action": "ssh_failed_password" }] });
    expect(d.decode("{not json", 4)).toMatchObject({ ok: false, reason: "invalid_json" });
    const r = d.decode("garbage", 5);
    expect(r).toMatchObject({ ok: false, reason: "not_syslog" });
    if (!r.ok) expect(r.message).toMatch(/RFC 3164.*or a JSON object/);
  });

  it("reports empty and too long lines", () => {
    const d = createDecoder("sshd", { source: "auth.log", year: 2024 });
    for (const blank of ["", "   ", "\t", "\r", "\r\n", "\n"]) expect(d.decode(blank, 1)).toMatchObject({ ok: false, reason: "empty_line" });
    expect(d.decode(`Mar  1 10:00:00 h1 sshd[12]: ${"x".repeat(MAX_LINE_BYTES)}`, 2)).toMatchObject({ ok: false, reason: "line_too_long" });
    // 30,000 three-byte characters are 90,000 bytes.
    expect(d.decode(`Mar  1 10:00:00 h1 sshd[12]: ${"€".repeat(30_000)}`, 3)).toMatchObject({ ok: false, reason: "line_too_long" });
    expect(d.decode(`Mar  1 10:00:00 h1 sshd[12]: ${"x".repeat(MAX_LINE_BYTES - 100)}`, 4)).toMatchObject({ ok: true });
  });

  it("reports non-syslog lines with what was expected", () => {
    const d = createDecoder("sshd", { source: "auth.log", year: 2024 });
    const r = d.decode("this is not a log line", 1);
    expect(r).toMatchObject({ ok: false, reason: "not_syslog" });
    if (!r.ok) expect(r.message).toMatch(/expected a syslog line/);
  });

  it("strips a UTF-8 byte order mark", () => {
    const d = createDecoder("sshd", { source: "auth.log", year: 2024 });
    expect(d.decode(`\uFEFF${SSH_LINE}`, 1)).toMatchObject({ ok: true });
  });

  it("rejects a bad configuration at creation", () => {
    expect(() => createDecoder("xml" as "json", { source: "x" })).toThrow(/unknown format/);
    expect(() => createDecoder("sshd", { source: "x", tz: "Not/AZone" })).toThrow(/unknown time zone/);
    expect(() => createDecoder("sshd", { source: "x", year: -4 })).toThrow(/year/);
  });
});

describe("detectFormat", () => {
  it("detects JSON lines and syslog", () => {
    expect(detectFormat(['{"@timestamp":"2024-03-01T10:00:00Z"}', "", '{"a":1}'])).toBe("json");
    expect(detectFormat([SSH_LINE, SSH_LINE, '{"a":1}'])).toBe("sshd");
    expect(detectFormat([])).toBe("sshd");
  });
});

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo", "jan"];
/** Any text: syslog-significant ASCII, any UTF-16 code unit (lone surrogates too), astral code points. */
const anyUnicode = fc.string({
  unit: fc.oneof(
    fc.constantFrom(" ", "[", "]", "(", ")", ":", "\t", "\r", "\n", "{", "}", '"', ".", "0", "9"),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  ),
  maxLength: 200,
});
const syslogPrefix = fc
  .tuple(
    fc.option(fc.integer({ min: 0, max: 999 }).map((p) => `<${p}>`), { nil: "" }),
    fc.constantFrom(...MONTHS),
    fc.constantFrom(" ", "  "),
    fc.integer({ min: 0, max: 39 }),
    fc.tuple(fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 69 })),
    fc.constantFrom(" gw1 ", " 2001:db8::1 ", "  ", " h "),
    fc.constantFrom("sshd[1]: ", "sshd(pam_unix)[22]: ", "sshd: ", "sshd-session[9]: ", "kernel: ", "sshd[", "(x)[1]:", ""),
    fc.constantFrom(
      "",
      "Failed password for ",
      "Failed password for root from 192.0.2.1 port 22 ssh2",
      "message repeated 3 times: [ ",
      "Invalid user ",
      "pam_unix(sshd:auth): authentication failure; rhost=",
      "Received disconnect from ",
      "Connection closed by authenticating user ",
      "error: ",
      "Disconnecting ",
      "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=",
      "session opened for user ",
    ),
  )
  .map(([pri, mon, sep, d, [h, mi, s], host, tag, msg]) => `${pri}${mon}${sep}${d} ${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}:${String(s).padStart(2, "0")}${host}${tag}${msg}`);
const rfc3339Prefix = fc
  .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.constantFrom("Z", "+01:00", "-14:00", "", ".123456+05:30"))
  .map(([y, m, d, z]) => `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}T12:00:00${z} host sshd[1]: `);
const line = fc.oneof(
  anyUnicode,
  fc.tuple(syslogPrefix, anyUnicode).map(([p, s]) => p + s),
  fc.tuple(rfc3339Prefix, anyUnicode).map(([p, s]) => p + s),
  fc.tuple(fc.constantFrom("{", '{"@timestamp":', '{"@timestamp":"2024-03-01T10:00:00Z","event":'), anyUnicode).map(([p, s]) => p + s),
  fc.json(),
);

function checkResult(r: ParseResult): void {
  if (r.ok) {
    expect(r.events.length).toBeGreaterThan(0);
    for (const e of r.events) {
      expect(typeof getField(e, "event.id")).toBe("string");
      expect(parseEventTime(e["@timestamp"])).toBeTypeOf("number");
    }
  } else {
    expect(PARSE_FAILURE_REASONS).toContain(r.reason);
    expect(r.reason).not.toBe("decoder_error");
    expect(typeof r.message).toBe("string");
    expect(r.message.length).toBeGreaterThan(0);
  }
}

describe("decode never throws", () => {
  test.prop([fc.constantFrom("auto", "json", "sshd", "syslog"), fc.array(line, { minLength: 1, maxLength: 20 }), fc.option(fc.constantFrom("UTC", "America/New_York", "Australia/Lord_Howe"), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 9999 }), { nil: undefined })], { numRuns: 300 })(
    "returns events with a string id and a valid @timestamp, or a typed failure",
    (format, lines, tz, year) => {
      const opts = { source: "/var/log/auth.log", now: () => Date.parse("2024-03-01T10:00:00Z"), ...(tz === undefined ? {} : { tz }), ...(year === undefined ? {} : { year }) };
      const d = createDecoder(format, opts);
      lines.forEach((l, i) => checkResult(d.decode(l, i + 1)));
    },
  );
});

describe("the event time the decoder hands over", () => {
  it("equals the @timestamp it wrote (syslog, RFC 3339 syslog, JSON)", () => {
    const d = createDecoder("auto", { source: "x.log", year: 2024, tz: "Europe/Berlin" });
    for (const line of [
      "Mar  3 06:25:18 web01 sshd[24664]: Connection closed by 192.0.2.9 [preauth]",
      "2024-03-01T10:00:00.123456+01:00 web01 sshd[1]: Invalid user bob from 198.51.100.2 port 4",
      '{"@timestamp":"2024-05-01T00:00:00.5Z","message":"x"}',
    ]) {
      const r = d.decode(line, 1);
      if (!r.ok) throw new Error(r.message);
      expect(r.ts).toBe(parseEventTime(r.events[0]?.["@timestamp"]));
    }
  });
});
