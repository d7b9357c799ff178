import { describe, expect, it } from "vitest";
import { createSyslogParser, type SyslogRecord } from "./syslog.js";
import type { ParseFailure } from "./types.js";

const NOW = Date.parse("2024-03-01T10:00:00Z");
const fixedNow = (t = NOW) => () => t;

function ok(r: SyslogRecord | ParseFailure): SyslogRecord {
  if (!r.ok) throw new Error(`expected a record, got ${r.reason}: ${r.message}`);
  return r;
}
function fail(r: SyslogRecord | ParseFailure): ParseFailure {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

describe("RFC 3164 lines", () => {
  const p = createSyslogParser({ year: 2024 });

  it("parses `Mmm dd HH:MM:SS host prog[pid]: msg`", () => {
    const r = ok(p.parse("Dec 10 06:55:46 gw1 sshd[24200]: Invalid user webmaster from 203.0.113.7"));
    expect(r).toMatchObject({
      timestamp: "2024-12-10T06:55:46.000Z",
      ts: Date.parse("2024-12-10T06:55:46Z"),
      host: "gw1",
      program: "sshd",
      pid: 24200,
      subsystem: undefined,
      message: "Invalid user webmaster from 203.0.113.7",
    });
  });

  it("accepts single-digit days padded with a space (and unpadded or zero-padded)", () => {
    expect(ok(p.parse("Jun  9 03:04:05 mail01 kernel: eth0: link up")).timestamp).toBe("2024-06-09T03:04:05.000Z");
    expect(ok(p.parse("Jun 9 03:04:05 mail01 kernel: eth0: link up")).timestamp).toBe("2024-06-09T03:04:05.000Z");
    expect(ok(p.parse("Jun 09 03:04:05 mail01 kernel: eth0: link up")).timestamp).toBe("2024-06-09T03:04:05.000Z");
  });

  it("parses the legacy `prog(sub)[pid]:` tag", () => {
    const r = ok(p.parse("Jun 14 15:16:01 mail01 sshd(pam_unix)[19939]: check pass; user unknown"));
    expect(r).toMatchObject({ program: "sshd", subsystem: "pam_unix", pid: 19939, message: "check pass; user unknown" });
  });

  it("parses `prog:` without a pid", () => {
    const r = ok(p.parse("Jul 27 14:41:57 mail01 syslog: syslogd startup succeeded"));
    expect(r).toMatchObject({ program: "syslog", pid: undefined, message: "syslogd startup succeeded" });
  });

  it("keeps the whole rest as the message when there is no recognisable tag", () => {
    expect(ok(p.parse("Jul 10 04:04:46 mail01 syslogd 1.4.1: restart."))).toMatchObject({
      host: "mail01",
      program: undefined,
      pid: undefined,
      message: "syslogd 1.4.1: restart.",
    });
    expect(ok(p.parse("Jul  7 08:06:15 mail01  -- root[2421]: ROOT LOGIN ON tty2"))).toMatchObject({
      host: "mail01",
      program: undefined,
      message: "-- root[2421]: ROOT LOGIN ON tty2",
    });
    expect(ok(p.parse("Jul  7 08:06:15 mail01 sshd[12x]: odd pid"))).toMatchObject({ program: undefined, message: "sshd[12x]: odd pid" });
  });

  it("accepts a <PRI> prefix", () => {
    const r = ok(p.parse("<38>Mar  1 09:00:00 bastion.example.com sshd[77]: Server listening on 0.0.0.0 port 22."));
    expect(r).toMatchObject({ priority: 38, host: "bastion.example.com", program: "sshd", pid: 77 });
  });

  it("allows an empty message", () => {
    expect(ok(p.parse("Mar  1 09:00:00 host1 cron[5]:"))).toMatchObject({ program: "cron", message: "" });
  });

  it("rejects lines that are not syslog with a message saying what was expected", () => {
    for (const line of ["hello world", "Foo 10 06:55:46 h p: m", "Dec 10 6:55:46 h p: m", "Dec 10 06:55 h p: m", "Dec 10 06:55:46", "Dec 10 06:55:46x h p: m", "<999>Dec 10 06:55:46 h p: m"]) {
      const f = fail(p.parse(line));
      expect(f.reason, line).toBe("not_syslog");
      expect(f.message).toMatch(/expected a syslog line: "Mmm dd HH:MM:SS host program\[pid\]: message"/);
    }
  });

  it("rejects impossible dates and times as bad_timestamp", () => {
    const q = createSyslogParser({ year: 2023 });
    expect(fail(q.parse("Feb 29 10:00:00 h p: m"))).toMatchObject({ reason: "bad_timestamp" });
    expect(fail(q.parse("Feb 29 10:00:00 h p: m")).message).toMatch(/February 2023 has no day 29/);
    expect(fail(q.parse("Apr 31 10:00:00 h p: m")).reason).toBe("bad_timestamp");
    expect(fail(q.parse("Apr 30 24:00:00 h p: m")).reason).toBe("bad_timestamp");
    expect(fail(q.parse("Apr 30 23:60:00 h p: m")).reason).toBe("bad_timestamp");
    expect(fail(q.parse("Apr  0 10:00:00 h p: m")).reason).toBe("bad_timestamp");
    expect(ok(createSyslogParser({ year: 2024 }).parse("Feb 29 10:00:00 h p: m")).timestamp).toBe("2024-02-29T10:00:00.000Z");
  });

  it("rejects a bad year option at creation", () => {
    expect(() => createSyslogParser({ year: 0 })).toThrow(RangeError);
    expect(() => createSyslogParser({ year: 2024.5 })).toThrow(RangeError);
  });
});

describe("RFC 3339 timestamps (rsyslog)", () => {
  const p = createSyslogParser({ now: fixedNow() });

  it("parses fractional seconds and offsets, to UTC with milliseconds", () => {
    const r = ok(p.parse("2024-03-01T10:00:00.123456+01:00 web01 sshd[4242]: Accepted publickey for deploy from 2001:db8::10 port 50522 ssh2: ED25519 SHA256:abc"));
    expect(r).toMatchObject({ timestamp: "2024-03-01T09:00:00.123Z", host: "web01", program: "sshd", pid: 4242 });
    expect(r.message).toMatch(/^Accepted publickey/);
    expect(ok(p.parse("2023-12-31T23:59:59Z h p: m")).timestamp).toBe("2023-12-31T23:59:59.000Z");
  });

  it("does not apply the year inference or the zone option to them", () => {
    const q = createSyslogParser({ tz: "America/New_York", now: fixedNow() });
    expect(ok(q.parse("2030-06-01T12:00:00Z h p: m")).timestamp).toBe("2030-06-01T12:00:00.000Z");
  });

  it("rejects impossible RFC 3339 times", () => {
    expect(fail(p.parse("2024-02-30T10:00:00Z h p: m")).reason).toBe("bad_timestamp");
    expect(fail(p.parse("2024-03-01T10:00:00 h p: m")).reason).toBe("bad_timestamp"); // no offset
    expect(fail(p.parse("0000-01-01T00:30:00+01:00 h p: m")).reason).toBe("bad_timestamp"); // year -1 in UTC
    expect(fail(p.parse("2024-13 h p: m")).reason).toBe("not_syslog");
  });
});

describe("year inference", () => {
  it("uses the current year when the first line is not in the future", () => {
    const p = createSyslogParser({ now: fixedNow() });
    expect(ok(p.parse("Feb 28 23:00:00 h p: m")).timestamp).toBe("2024-02-28T23:00:00.000Z");
  });

  it("tolerates up to a day in the future (clock skew) before moving to last year", () => {
    expect(ok(createSyslogParser({ now: fixedNow() }).parse("Mar  2 09:00:00 h p: m")).timestamp).toBe("2024-03-02T09:00:00.000Z");
    expect(ok(createSyslogParser({ now: fixedNow() }).parse("Mar  2 10:00:01 h p: m")).timestamp).toBe("2023-03-02T10:00:01.000Z");
  });

  it("puts a first timestamp more than a day in the future in the previous year", () => {
    const p = createSyslogParser({ now: fixedNow() });
    expect(ok(p.parse("Dec 10 06:55:46 h sshd[1]: m")).timestamp).toBe("2023-12-10T06:55:46.000Z");
    expect(ok(p.parse("Dec 31 23:59:59 h sshd[1]: m")).timestamp).toBe("2023-12-31T23:59:59.000Z");
  });

  it("moves to the next year when the month goes back by more than 6 months (Dec → Jan)", () => {
    const p = createSyslogParser({ now: fixedNow() });
    expect(ok(p.parse("Dec 31 23:59:58 h p: a")).timestamp).toBe("2023-12-31T23:59:58.000Z");
    expect(ok(p.parse("Jan  1 00:00:01 h p: b")).timestamp).toBe("2024-01-01T00:00:01.000Z");
    expect(ok(p.parse("Feb 10 00:00:01 h p: c")).timestamp).toBe("2024-02-10T00:00:01.000Z");
  });

  it("does not roll over for small steps back (out-of-order lines within a few months)", () => {
    const p = createSyslogParser({ year: 2022 });
    expect(ok(p.parse("Jul  1 00:00:00 h p: a")).timestamp).toBe("2022-07-01T00:00:00.000Z");
    expect(ok(p.parse("Jun 30 23:59:59 h p: b")).timestamp).toBe("2022-06-30T23:59:59.000Z");
    expect(ok(p.parse("Jan  1 00:00:00 h p: c")).timestamp).toBe("2022-01-01T00:00:00.000Z"); // 6 months back: same year
  });

  it("with an explicit year, rolls over too (the year is the first line's)", () => {
    const p = createSyslogParser({ year: 2005 });
    expect(ok(p.parse("Dec 31 23:00:00 mail01 p: a")).timestamp).toBe("2005-12-31T23:00:00.000Z");
    expect(ok(p.parse("Jan  1 01:00:00 mail01 p: b")).timestamp).toBe("2006-01-01T01:00:00.000Z");
  });

  it("never places a line more than a day in the future when inferring (late December lines after January)", () => {
    const now = Date.parse("2024-01-01T00:10:00Z");
    const p = createSyslogParser({ now: fixedNow(now) });
    expect(ok(p.parse("Dec 31 23:59:59 h p: a")).timestamp).toBe("2023-12-31T23:59:59.000Z");
    expect(ok(p.parse("Jan  1 00:00:02 h p: b")).timestamp).toBe("2024-01-01T00:00:02.000Z");
    expect(ok(p.parse("Dec 31 23:59:58 h p: late")).timestamp).toBe("2023-12-31T23:59:58.000Z");
    // Going back to January again must not ratchet the year forward into 2025.
    expect(ok(p.parse("Jan  1 00:00:03 h p: c")).timestamp).toBe("2024-01-01T00:00:03.000Z");
  });

  it("infers the current year in the configured zone", () => {
    // 2024-01-01T00:30 in Tokyo is still 2023 in UTC.
    const now = Date.parse("2023-12-31T15:30:00Z");
    const p = createSyslogParser({ tz: "Asia/Tokyo", now: fixedNow(now) });
    expect(ok(p.parse("Jan  1 00:20:00 h p: m")).timestamp).toBe("2023-12-31T15:20:00.000Z");
  });
});

describe("time zones", () => {
  it("converts local wall time to UTC including DST (America/New_York)", () => {
    const p = createSyslogParser({ year: 2024, tz: "America/New_York" });
    expect(ok(p.parse("Mar 10 01:59:59 h p: m")).timestamp).toBe("2024-03-10T06:59:59.000Z");
    expect(ok(p.parse("Mar 10 02:30:00 h p: gap")).timestamp).toBe("2024-03-10T07:30:00.000Z");
    expect(ok(p.parse("Mar 10 03:00:00 h p: m")).timestamp).toBe("2024-03-10T07:00:00.000Z");
    expect(ok(p.parse("Jul  4 12:00:00 h p: m")).timestamp).toBe("2024-07-04T16:00:00.000Z");
    expect(ok(p.parse("Nov  3 01:30:00 h p: first 01:30")).timestamp).toBe("2024-11-03T05:30:00.000Z");
    expect(ok(p.parse("Nov  3 02:00:00 h p: m")).timestamp).toBe("2024-11-03T07:00:00.000Z");
    expect(ok(p.parse("Dec 25 08:00:00 h p: m")).timestamp).toBe("2024-12-25T13:00:00.000Z");
  });

  it("throws at creation for an unknown zone", () => {
    expect(() => createSyslogParser({ tz: "Nowhere/Special" })).toThrow(/unknown time zone/);
  });
});
