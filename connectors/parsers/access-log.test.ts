import { describe, expect, test } from "vitest";
import { parseAccessLogLine, percentDecode } from "./access-log.js";
import { createDecoder } from "./index.js";

describe("access-log parser", () => {
  test("combined format: ECS fields, decoded path and query, time with offset", () => {
    const r = parseAccessLogLine('203.0.113.9 - alice [22/Dec/2016:22:32:31 +0300] "GET /a%20b/x.php?id=1%27+OR+1%3D1&q=a+b HTTP/1.1" 404 3279 "http://ref.example/" "w3af.org"');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ts).toBe(Date.UTC(2016, 11, 22, 19, 32, 31));
    expect(r.fields).toMatchObject({
      "@timestamp": "2016-12-22T19:32:31.000Z",
      "event.category": ["web"],
      "source.ip": "203.0.113.9",
      "user.name": "alice",
      "http.request.method": "GET",
      "http.version": "1.1",
      "url.original": "/a%20b/x.php?id=1%27+OR+1%3D1&q=a+b",
      "url.path": "/a b/x.php",
      "url.query": "id=1' OR 1=1&q=a b",
      "http.response.status_code": 404,
      "event.outcome": "failure",
      "http.response.body.bytes": 3279,
      "http.request.referrer": "http://ref.example/",
      "user_agent.original": "w3af.org",
    });
  });

  test("common format (no referrer or agent), a dash size, IPv6 client", () => {
    const r = parseAccessLogLine('2001:db8::7 - - [03/Oct/2004:09:54:22 -0400] "GET /scripts/..%255c../winnt/system32/cmd.exe?/c+dir HTTP/1.0" 200 -');
    expect(r.ok && r.fields).toMatchObject({ "source.ip": "2001:db8::7", "url.path": "/scripts/..%5c../winnt/system32/cmd.exe", "url.query": "/c dir", "event.outcome": "success" });
    expect(r.ok && r.fields["http.response.body.bytes"]).toBeUndefined();
    expect(r.ok && r.ts).toBe(Date.UTC(2004, 9, 3, 13, 54, 22));
  });

  test("a line wrapped in an extra pair of quotes is unwrapped; escaped quotes in the agent", () => {
    const r = parseAccessLogLine('"192.168.4.163 - - [22/Dec/2016:22:32:31 +0300] "GET / HTTP/1.1" 200 3279 "-" "say \\"hi\\"""');
    expect(r.ok && r.fields).toMatchObject({ "url.path": "/", "user_agent.original": 'say "hi"' });
    expect(r.ok && r.fields["http.request.referrer"]).toBeUndefined();
  });

  test("a garbage request line is kept in url.original", () => {
    const r = parseAccessLogLine('198.51.100.3 - - [17/May/2015:10:05:03 +0000] "\\x16\\x03\\x01" 400 226 "-" "-"');
    expect(r.ok && r.fields["url.original"]).toBe("\\x16\\x03\\x01");
  });

  test("bad lines fail with a reason and a message", () => {
    const r = parseAccessLogLine("Dec 22 22:32:31 host sshd[1]: hello");
    expect(r).toMatchObject({ ok: false, reason: "not_access_log" });
    expect(parseAccessLogLine('1.2.3.4 - - [22/Foo/2016:22:32:31 +0300] "GET / HTTP/1.1" 200 1')).toMatchObject({ ok: false, reason: "bad_timestamp" });
  });

  test("percent-decoding keeps malformed escapes as sent", () => {
    expect(percentDecode("a%zz%41%2", false)).toBe("a%zzA%2");
    expect(percentDecode("a+b%2B", true)).toBe("a b+");
  });

  test("--format access and auto-detection give event ids; auto still reads syslog and JSON", () => {
    const line = '203.0.113.9 - - [22/Dec/2016:22:32:31 +0300] "GET / HTTP/1.1" 200 1 "-" "curl/8"';
    for (const f of ["access", "auto"] as const) {
      const r = createDecoder(f, { source: "/var/log/access.log" }).decode(line, 7);
      expect(r.ok && r.events[0]?.["event.id"]).toMatch(/^access\.log:7-[0-9a-f]{8}$/);
    }
    const auto = createDecoder("auto", { source: "x", year: 2024 });
    expect(auto.decode("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", 1).ok).toBe(true);
    expect(auto.decode('{"@timestamp": "2024-01-01T00:00:00Z"}', 2).ok).toBe(true);
    const bad = createDecoder("access", { source: "x" }).decode("not a log line", 3);
    expect(bad).toMatchObject({ ok: false, reason: "not_access_log" });
  });
});
