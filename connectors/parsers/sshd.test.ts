import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventFields } from "../../engine/event.js";
import { createDecoder } from "./index.js";
import { parseSshdMessage, SshdEnricher } from "./sshd.js";

const decoder = () => createDecoder("sshd", { source: "/var/log/auth.log", year: 2024 });

/** Decodes full syslog lines with one decoder; returns the events of the last line. */
function decodeLines(...lines: string[]): EventFields[] {
  const d = decoder();
  let events: EventFields[] = [];
  lines.forEach((line, i) => {
    const r = d.decode(line, i + 1);
    if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
    events = r.events;
  });
  return events;
}

function one(...lines: string[]): EventFields {
  const events = decodeLines(...lines);
  expect(events).toHaveLength(1);
  return events[0] as EventFields;
}

const SSHD = { "service.name": "sshd", "event.dataset": "sshd", "event.module": "system", "process.name": "sshd" };

describe("authentication attempts", () => {
  it("Failed password for a valid user (IPv4)", () => {
    const e = one("Dec 10 09:11:08 gw1 sshd[24437]: Failed password for root from 203.0.113.40 port 58762 ssh2");
    expect(e).toMatchObject({
      ...SSHD,
      "@timestamp": "2024-12-10T09:11:08.000Z",
      "host.name": "gw1",
      "process.pid": 24437,
      message: "Failed password for root from 203.0.113.40 port 58762 ssh2",
      "event.action": "ssh_failed_password",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "user.name": "root",
      "source.address": "203.0.113.40",
      "source.ip": "203.0.113.40",
      "source.port": 58762,
    });
    expect(e["ssh.invalid_user"]).toBeUndefined();
    expect(e["source.domain"]).toBeUndefined();
  });

  it("Failed password for invalid user (IPv6)", () => {
    const e = one("Mar  3 04:10:01 bastion sshd[8812]: Failed password for invalid user oracle from 2001:db8::7a port 40222 ssh2");
    expect(e).toMatchObject({
      "event.action": "ssh_failed_password",
      "event.outcome": "failure",
      "user.name": "oracle",
      "ssh.invalid_user": true,
      "source.address": "2001:db8::7a",
      "source.ip": "2001:db8::7a",
      "source.port": 40222,
    });
  });

  it("Failed none / publickey / keyboard-interactive/pam", () => {
    expect(one("Dec 10 09:07:19 gw1 sshd[24419]: Failed none for invalid user admin from 198.51.100.22 port 51872 ssh2")).toMatchObject({
      "event.action": "ssh_failed_none",
      "user.name": "admin",
      "ssh.method": "none",
    });
    expect(one("Mar  3 04:11:00 bastion sshd[8813]: Failed publickey for git from 192.0.2.15 port 50100 ssh2: RSA SHA256:Zm9vYmFyYmF6cXV4")).toMatchObject({
      "event.action": "ssh_failed_publickey",
      "user.name": "git",
      "source.port": 50100,
    });
    expect(one("Mar  3 04:12:00 bastion sshd[8814]: Failed keyboard-interactive/pam for invalid user test from 198.51.100.9 port 33022 ssh2")).toMatchObject({
      "event.action": "ssh_failed_keyboard_interactive_pam",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "ssh.method": "keyboard-interactive/pam",
    });
  });

  it("keeps odd user names verbatim, including spaces and a trailing ' from … port …' inside the name", () => {
    expect(one("Dec 10 08:24:35 gw1 sshd[24361]: Failed password for invalid user  0101 from 203.0.113.180 port 36279 ssh2")["user.name"]).toBe(" 0101");
    const e = one("Dec 10 08:24:35 gw1 sshd[24361]: Failed password for invalid user x from 192.0.2.1 port 1 ssh2 from 203.0.113.180 port 36279 ssh2");
    expect(e).toMatchObject({ "user.name": "x from 192.0.2.1 port 1 ssh2", "source.ip": "203.0.113.180", "source.port": 36279 });
  });

  it("Accepted password / publickey", () => {
    expect(one("Dec 10 09:32:20 gw1 sshd[24680]: Accepted password for alice from 198.51.100.142 port 49116 ssh2")).toMatchObject({
      ...SSHD,
      "event.action": "ssh_accepted_password",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "success",
      "user.name": "alice",
      "source.ip": "198.51.100.142",
      "source.port": 49116,
    });
    expect(one("Mar  1 10:00:00 web01 sshd-session[4242]: Accepted publickey for deploy from 2001:db8::10 port 50522 ssh2: ED25519 SHA256:abc")).toMatchObject({
      "process.name": "sshd-session",
      "event.action": "ssh_accepted_publickey",
      "event.outcome": "success",
      "user.name": "deploy",
      "source.ip": "2001:db8::10",
    });
  });

  it("Invalid user / Illegal user, with and without port", () => {
    expect(one("Dec 10 06:55:46 gw1 sshd[24200]: Invalid user webmaster from 203.0.113.186")).toMatchObject({
      "event.action": "ssh_invalid_user",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "user.name": "webmaster",
      "source.ip": "203.0.113.186",
    });
    expect(one("Mar  3 04:10:00 bastion sshd[8812]: Invalid user oracle from 2001:db8::7a port 40222")).toMatchObject({
      "event.action": "ssh_invalid_user",
      "user.name": "oracle",
      "source.ip": "2001:db8::7a",
      "source.port": 40222,
    });
    expect(one("Jan  5 11:22:33 oldbox sshd[999]: Illegal user test from 192.0.2.77")).toMatchObject({
      "event.action": "ssh_invalid_user",
      "user.name": "test",
      "source.ip": "192.0.2.77",
    });
  });

  it("error: maximum authentication attempts exceeded", () => {
    const e = one("Mar  3 05:00:00 bastion sshd[9001]: error: maximum authentication attempts exceeded for invalid user admin from 198.51.100.61 port 52214 ssh2 [preauth]");
    expect(e).toMatchObject({
      "event.action": "ssh_max_auth_attempts",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "user.name": "admin",
      "ssh.invalid_user": true,
      "ssh.preauth": true,
      "source.ip": "198.51.100.61",
      "source.port": 52214,
    });
    expect(one("Mar  3 05:00:01 bastion sshd[9002]: error: maximum authentication attempts exceeded for root from 2001:db8:1::5 port 22022 ssh2 [preauth]")).toMatchObject({
      "event.action": "ssh_max_auth_attempts",
      "user.name": "root",
      "source.ip": "2001:db8:1::5",
    });
  });

  it("Disconnecting: Too many authentication failures, old and new forms", () => {
    const old = one(
      "Dec 10 07:13:50 gw1 sshd[24227]: Failed password for root from 203.0.113.76 port 48112 ssh2",
      "Dec 10 07:13:56 gw1 sshd[24227]: Disconnecting: Too many authentication failures for root [preauth]",
    );
    expect(old).toMatchObject({
      "event.action": "ssh_too_many_auth_failures",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "user.name": "root",
      "ssh.preauth": true,
      "source.address": "203.0.113.76", // from the earlier line of pid 24227
    });
    expect(one("Mar  3 05:00:02 bastion sshd[9003]: Disconnecting: Too many authentication failures [preauth]")).toMatchObject({
      "event.action": "ssh_too_many_auth_failures",
    });
    expect(one("Mar  3 05:00:03 bastion sshd[9004]: Disconnecting authenticating user root 192.0.2.200 port 60122: Too many authentication failures [preauth]")).toMatchObject({
      "event.action": "ssh_too_many_auth_failures",
      "user.name": "root",
      "source.ip": "192.0.2.200",
      "source.port": 60122,
    });
    expect(one("Mar  3 05:00:04 bastion sshd[9005]: Disconnecting invalid user guest 2001:db8::99 port 60123: Too many authentication failures [preauth]")).toMatchObject({
      "event.action": "ssh_too_many_auth_failures",
      "user.name": "guest",
      "ssh.invalid_user": true,
      "source.ip": "2001:db8::99",
    });
  });
});

describe("PAM", () => {
  it("modern pam_unix(sshd:auth) authentication failure is a companion (info), with rhost and user", () => {
    const e = one("Dec 10 11:04:43 gw1 sshd[25544]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.253  user=root");
    expect(e).toMatchObject({
      ...SSHD,
      "event.action": "pam_auth_failure",
      "event.category": "authentication",
      "event.type": "info",
      "event.outcome": "failure",
      "user.name": "root",
      "source.address": "203.0.113.253",
      "source.ip": "203.0.113.253",
    });
  });

  it("rhost may be a host name (source.domain) and user= may be absent", () => {
    const e = one("Dec 10 07:08:28 gw1 sshd[24208]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=host-7.dyn.example.com ");
    expect(e).toMatchObject({ "event.action": "pam_auth_failure", "source.address": "host-7.dyn.example.com", "source.domain": "host-7.dyn.example.com" });
    expect(e["source.ip"]).toBeUndefined();
    expect(e["user.name"]).toBeUndefined();
    expect(one("Mar  3 05:10:00 bastion sshd[9100]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=2001:db8::beef  user=admin")).toMatchObject({
      "source.ip": "2001:db8::beef",
      "user.name": "admin",
    });
  });

  it("pam_unix(sshd:auth): check pass; user unknown takes the address of the pid's earlier line", () => {
    const e = one(
      "Dec 10 06:55:46 gw1 sshd[24200]: Invalid user webmaster from 203.0.113.186",
      "Dec 10 06:55:46 gw1 sshd[24200]: pam_unix(sshd:auth): check pass; user unknown",
    );
    expect(e).toMatchObject({
      "event.action": "pam_check_pass_user_unknown",
      "event.category": "authentication",
      "event.type": "info",
      "event.outcome": "failure",
      "source.address": "203.0.113.186",
      "source.ip": "203.0.113.186",
    });
  });

  it("legacy sshd(pam_unix)[pid] authentication failure IS the attempt (start)", () => {
    const e = one("Jun 15 02:04:59 mail01 sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.dsl.example.net  user=root");
    expect(e).toMatchObject({
      ...SSHD,
      "process.pid": 20882,
      "event.action": "pam_auth_failure",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "user.name": "root",
      "source.address": "220-135-151-1.dsl.example.net",
      "source.domain": "220-135-151-1.dsl.example.net",
    });
    expect(one("Jun 14 15:16:01 mail01 sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=198.51.100.4 ")).toMatchObject({
      "event.type": "start",
      "source.ip": "198.51.100.4",
    });
  });

  it("legacy check pass; user unknown", () => {
    expect(one("Jun 14 15:16:02 mail01 sshd(pam_unix)[19937]: check pass; user unknown")).toMatchObject({
      "event.action": "pam_check_pass_user_unknown",
      "event.category": "authentication",
      "event.type": "info",
      "event.outcome": "failure",
    });
  });

  it("legacy session opened / closed", () => {
    expect(one("Jun 20 04:02:54 mail01 sshd(pam_unix)[22545]: session opened for user alice by (uid=0)")).toMatchObject({
      ...SSHD,
      "event.action": "ssh_session_opened",
      "event.category": "session",
      "event.type": "start",
      "event.outcome": "success",
      "user.name": "alice",
    });
    expect(one("Jun 20 04:10:19 mail01 sshd(pam_unix)[22545]: session closed for user alice")).toMatchObject({
      "event.action": "ssh_session_closed",
      "event.category": "session",
      "event.type": "end",
      "event.outcome": "success",
      "user.name": "alice",
    });
  });

  it("modern pam_unix(sshd:session) opened / closed, with the address of the Accepted line", () => {
    const lines = [
      "Dec 10 09:32:20 gw1 sshd[24680]: Accepted password for alice from 198.51.100.142 port 49116 ssh2",
      "Dec 10 09:32:20 gw1 sshd[24680]: pam_unix(sshd:session): session opened for user alice by (uid=0)",
    ];
    expect(decodeLines(...lines)[0]).toMatchObject({
      "event.action": "ssh_session_opened",
      "event.category": "session",
      "event.type": "start",
      "event.outcome": "success",
      "user.name": "alice",
      "source.ip": "198.51.100.142",
    });
    expect(decodeLines(...lines, "Dec 10 09:45:06 gw1 sshd[24680]: pam_unix(sshd:session): session closed for user alice")[0]).toMatchObject({
      "event.action": "ssh_session_closed",
      "event.type": "end",
      "user.name": "alice",
      "source.ip": "198.51.100.142",
    });
    expect(one("Mar  1 10:00:01 web01 sshd[4242]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by deploy(uid=0)")).toMatchObject({
      "event.action": "ssh_session_opened",
      "user.name": "deploy",
      "user.id": "1001",
    });
  });

  it("other PAM lines are ssh_other", () => {
    const e = one("Dec 10 07:13:56 gw1 sshd[24227]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.76  user=root");
    expect(e["event.action"]).toBe("ssh_other");
  });
});

describe("connection lifecycle", () => {
  it("input_userauth_request: invalid user [preauth]", () => {
    const e = one(
      "Dec 10 06:55:46 gw1 sshd[24200]: Invalid user webmaster from 203.0.113.186",
      "Dec 10 06:55:46 gw1 sshd[24200]: input_userauth_request: invalid user webmaster [preauth]",
    );
    expect(e).toMatchObject({
      "event.action": "ssh_invalid_user_request",
      "event.category": "authentication",
      "event.type": "info",
      "event.outcome": "failure",
      "user.name": "webmaster",
      "ssh.preauth": true,
      "source.ip": "203.0.113.186",
      message: "input_userauth_request: invalid user webmaster [preauth]",
    });
  });

  it("Connection closed by, old and new forms", () => {
    expect(one("Dec 10 06:55:48 gw1 sshd[24200]: Connection closed by 203.0.113.186 [preauth]")).toMatchObject({
      "event.action": "ssh_connection_closed",
      "event.category": "network",
      "event.type": "end",
      "event.outcome": "unknown",
      "ssh.preauth": true,
      "source.ip": "203.0.113.186",
    });
    expect(one("Mar  3 06:00:00 bastion sshd[9200]: Connection closed by authenticating user root 192.0.2.33 port 41234 [preauth]")).toMatchObject({
      "event.action": "ssh_connection_closed",
      "user.name": "root",
      "source.ip": "192.0.2.33",
      "source.port": 41234,
      "ssh.preauth": true,
    });
    expect(one("Mar  3 06:00:01 bastion sshd[9201]: Connection closed by invalid user ubnt 2001:db8::21 port 41235 [preauth]")).toMatchObject({
      "user.name": "ubnt",
      "ssh.invalid_user": true,
      "source.ip": "2001:db8::21",
      "source.port": 41235,
    });
    expect(one("Mar  3 06:00:02 bastion sshd[9202]: Connection closed by 198.51.100.8 port 50000")).toMatchObject({
      "event.action": "ssh_connection_closed",
      "source.port": 50000,
    });
  });

  it("Disconnected from [authenticating |invalid ]user U A port P", () => {
    expect(one("Mar  3 06:10:00 bastion sshd[9300]: Disconnected from user alice 198.51.100.142 port 49116")).toMatchObject({
      "event.action": "ssh_disconnected",
      "event.category": "network",
      "event.type": "end",
      "event.outcome": "unknown",
      "user.name": "alice",
      "source.ip": "198.51.100.142",
      "source.port": 49116,
    });
    expect(one("Mar  3 06:10:01 bastion sshd[9301]: Disconnected from authenticating user root 203.0.113.9 port 39012 [preauth]")).toMatchObject({
      "event.action": "ssh_disconnected",
      "user.name": "root",
      "ssh.preauth": true,
    });
    expect(one("Mar  3 06:10:02 bastion sshd[9302]: Disconnected from invalid user pi 2001:db8::3 port 39013 [preauth]")).toMatchObject({
      "user.name": "pi",
      "ssh.invalid_user": true,
      "source.ip": "2001:db8::3",
    });
    expect(one("Mar  3 06:10:03 bastion sshd[9303]: Disconnected from 192.0.2.50 port 39014 [preauth]")).toMatchObject({
      "event.action": "ssh_disconnected",
      "source.ip": "192.0.2.50",
      "source.port": 39014,
    });
  });

  it("Received disconnect, old (no port) and new (port) forms, IPv4 and IPv6", () => {
    expect(one("Dec 10 07:07:45 gw1 sshd[24206]: Received disconnect from 198.51.100.196: 11: Bye Bye [preauth]")).toMatchObject({
      "event.action": "ssh_disconnect_received",
      "event.category": "network",
      "event.type": "end",
      "event.outcome": "unknown",
      "ssh.disconnect_code": 11,
      "ssh.preauth": true,
      "source.ip": "198.51.100.196",
    });
    expect(one("Mar  3 06:20:00 bastion sshd[9400]: Received disconnect from 2001:db8::44 port 53000:11: disconnected by user")).toMatchObject({
      "event.action": "ssh_disconnect_received",
      "ssh.disconnect_code": 11,
      "source.ip": "2001:db8::44",
      "source.port": 53000,
    });
    expect(one("Mar  3 06:20:01 bastion sshd[9401]: Received disconnect from 2001:db8::45: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]")).toMatchObject({
      "ssh.disconnect_code": 3,
      "source.ip": "2001:db8::45",
    });
    expect(one("Dec 10 09:10:32 gw1 sshd[24421]: error: Received disconnect from 203.0.113.151: 14: No more user authentication methods available. [preauth]")).toMatchObject({
      "event.action": "ssh_disconnect_received",
      "ssh.disconnect_code": 14,
      "source.ip": "203.0.113.151",
    });
  });

  it("malformed Received disconnect lines are ssh_other", () => {
    for (const m of [
      "Received disconnect from 192.0.2.1",
      "Received disconnect from 192.0.2.1: x: Bye",
      "Received disconnect from 192.0.2.1 port x:11: Bye",
      "Received disconnect from 192.0.2.1 port 22: 11: Bye",
      "Received disconnect from 192.0.2.1 11: Bye",
      "Received disconnect from  : 11: Bye",
    ]) {
      expect(parseSshdMessage(m)["event.action"], m).toBe("ssh_other");
      expect(parseSshdMessage(m)["ssh.disconnect_code"], m).toBeUndefined();
    }
  });

  it("Did not receive identification string", () => {
    expect(one("Dec 10 07:51:12 gw1 sshd[24324]: Did not receive identification string from 203.0.113.135")).toMatchObject({
      "event.action": "ssh_no_identification",
      "event.category": "network",
      "event.type": "info",
      "event.outcome": "failure",
      "source.ip": "203.0.113.135",
    });
    expect(one("Mar  3 06:30:00 bastion sshd[9500]: Did not receive identification string from 2001:db8::66 port 45123")).toMatchObject({
      "event.action": "ssh_no_identification",
      "source.ip": "2001:db8::66",
      "source.port": 45123,
    });
  });
});

describe("possible break-in", () => {
  it("reverse mapping checking getaddrinfo … failed", () => {
    const e = one("Dec 10 06:55:46 gw1 sshd[24200]: reverse mapping checking getaddrinfo for ns.attacker.example.com [203.0.113.186] failed - POSSIBLE BREAK-IN ATTEMPT!");
    expect(e).toMatchObject({
      "event.action": "ssh_possible_break_in",
      "event.category": "intrusion_detection",
      "event.type": "info",
      "event.outcome": "unknown",
      "source.address": "203.0.113.186",
      "source.ip": "203.0.113.186",
      "source.domain": "ns.attacker.example.com",
    });
  });

  it("Address A maps to H, but this does not map back", () => {
    const e = one("Mar  3 07:00:00 bastion sshd[9600]: Address 198.51.100.70 maps to mail.example.org, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!");
    expect(e).toMatchObject({
      "event.action": "ssh_possible_break_in",
      "event.category": "intrusion_detection",
      "source.address": "198.51.100.70",
      "source.ip": "198.51.100.70",
      "source.domain": "mail.example.org",
    });
  });

  it("does not pass the unverified reverse name on to later lines of the pid", () => {
    const e = one(
      "Dec 10 06:55:46 gw1 sshd[24200]: reverse mapping checking getaddrinfo for ns.attacker.example.com [203.0.113.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
      "Dec 10 06:55:46 gw1 sshd[24200]: input_userauth_request: invalid user webmaster [preauth]",
    );
    expect(e).toMatchObject({ "source.ip": "203.0.113.186" });
    expect(e["source.domain"]).toBeUndefined();
  });
});

describe("other messages", () => {
  it("are ssh_other events that still carry the message", () => {
    const e = one("Dec 10 09:08:59 gw1 sshd[24419]: fatal: Write failed: Connection reset by peer [preauth]");
    expect(e).toMatchObject({ ...SSHD, "event.action": "ssh_other", message: "fatal: Write failed: Connection reset by peer [preauth]", "ssh.preauth": true });
    expect(e["event.category"]).toBeUndefined();
    expect(e["event.type"]).toBeUndefined();
    expect(e["event.outcome"]).toBeUndefined();
    expect(one("Mar  1 09:00:00 web01 sshd[77]: Server listening on :: port 22.")["event.action"]).toBe("ssh_other");
    expect(one("Mar  1 09:00:00 web01 sshd[77]: Failed to frobnicate")["event.action"]).toBe("ssh_other");
    expect(one("Mar  1 09:00:00 web01 sshd[77]: error: error: Received disconnect from 192.0.2.1: 11: x")["event.action"]).toBe("ssh_other");
  });
});

describe("message repeated N times", () => {
  it("becomes N events, each the parse of the repeated message, each with its own id", () => {
    const d = decoder();
    const line = "Dec 10 09:12:20 gw1 sshd[24437]: message repeated 5 times: [ Failed password for root from 203.0.113.151 port 38280 ssh2]";
    const r = d.decode(line, 31);
    if (!r.ok) throw new Error(r.message);
    expect(r.events).toHaveLength(5);
    for (const e of r.events) {
      expect(e).toMatchObject({
        "event.action": "ssh_failed_password",
        "event.type": "start",
        "user.name": "root",
        "source.ip": "203.0.113.151",
        "source.port": 38280,
        message: "Failed password for root from 203.0.113.151 port 38280 ssh2",
      });
    }
    const ids = r.events.map((e) => e["event.id"] as string);
    expect(new Set(ids).size).toBe(5);
    expect(ids[0]).toMatch(/^auth\.log:31-[0-9a-f]{8}$/);
    expect(ids[2]).toMatch(/^auth\.log:31\.3-[0-9a-f]{8}$/);
  });
});

describe("pid → address memory", () => {
  it("is per host and pid", () => {
    const e = one(
      "Dec 10 06:55:46 gw1 sshd[24200]: Invalid user webmaster from 203.0.113.186",
      "Dec 10 06:55:46 gw2 sshd[24200]: pam_unix(sshd:auth): check pass; user unknown",
    );
    expect(e["source.address"]).toBeUndefined();
  });

  it("follows the most recent address of the pid", () => {
    const e = one(
      "Dec 10 06:55:46 gw1 sshd[24200]: Invalid user a from 203.0.113.1",
      "Dec 10 06:55:47 gw1 sshd[24200]: Invalid user b from 203.0.113.2",
      "Dec 10 06:55:48 gw1 sshd[24200]: input_userauth_request: invalid user b [preauth]",
    );
    expect(e["source.address"]).toBe("203.0.113.2");
  });

  it("is bounded: the oldest pid is evicted", () => {
    const enricher = new SshdEnricher(3);
    for (let pid = 1; pid <= 4; pid++) enricher.enrich({}, `Invalid user u from 192.0.2.${pid}`, "gw1", pid, false);
    expect(enricher.rememberedPids).toBe(3);
    const first: EventFields = {};
    enricher.enrich(first, "input_userauth_request: invalid user u", "gw1", 1, false);
    expect(first["source.address"]).toBeUndefined();
    const last: EventFields = {};
    enricher.enrich(last, "input_userauth_request: invalid user u", "gw1", 4, false);
    expect(last["source.address"]).toBe("192.0.2.4");
  });
});

describe("pid → address memory bounds", () => {
  it("bounds the hosts too, and a returning host never sees another host's addresses", () => {
    const enricher = new SshdEnricher(2);
    enricher.enrich({}, "Invalid user u from 192.0.2.1", "a.example.com", 7, false);
    enricher.enrich({}, "Invalid user u from 192.0.2.2", "b.example.com", 7, false);
    enricher.enrich({}, "Invalid user u from 192.0.2.3", "c.example.com", 7, false); // evicts host a and its pid
    expect(enricher.rememberedPids).toBe(2);
    const back: EventFields = {};
    enricher.enrich(back, "input_userauth_request: invalid user u", "a.example.com", 7, false);
    expect(back["source.address"]).toBeUndefined();
    const c: EventFields = {};
    enricher.enrich(c, "input_userauth_request: invalid user u", "c.example.com", 7, false);
    expect(c["source.address"]).toBe("192.0.2.3");
  });
});

describe("address classification", () => {
  it("source.ip for IP literals, source.domain for host names, only source.address otherwise", () => {
    expect(parseSshdMessage("Invalid user a from 192.0.2.1")).toMatchObject({ "source.ip": "192.0.2.1" });
    expect(parseSshdMessage("Invalid user a from ::ffff:192.0.2.1")).toMatchObject({ "source.ip": "::ffff:192.0.2.1" });
    expect(parseSshdMessage("Invalid user a from fe80::1%eth0 port 22")).toMatchObject({ "source.address": "fe80::1%eth0", "source.ip": "fe80::1" });
    expect(parseSshdMessage("Invalid user a from scanner.example.net")).toMatchObject({ "source.domain": "scanner.example.net" });
    const odd = parseSshdMessage("Invalid user a from 999.1.1.1");
    expect(odd["source.address"]).toBe("999.1.1.1");
    expect(odd["source.ip"]).toBeUndefined();
    const weird = parseSshdMessage("Invalid user a from ::zz::");
    expect(weird).toMatchObject({ "source.address": "::zz::" });
    expect(weird["source.ip"]).toBeUndefined();
    expect(weird["source.domain"]).toBeUndefined();
    expect(parseSshdMessage("Connection closed by UNKNOWN port 65535")["source.address"]).toBeUndefined();
    expect(parseSshdMessage("Failed password for root from 192.0.2.1 port 99999 ssh2")["source.port"]).toBeUndefined();
  });
});

describe("hot path", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs at most two regexes per message (one dispatch on the first word, not every pattern in turn)", () => {
    const messages = [
      "Failed password for root from 192.0.2.1 port 22 ssh2",
      "Accepted publickey for deploy from 2001:db8::10 port 50522 ssh2: ED25519 SHA256:abc",
      "Invalid user a from 192.0.2.1",
      "input_userauth_request: invalid user a [preauth]",
      "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1  user=root",
      "pam_unix(sshd:auth): check pass; user unknown",
      "pam_unix(sshd:session): session opened for user a by (uid=0)",
      "error: maximum authentication attempts exceeded for root from 192.0.2.1 port 1 ssh2 [preauth]",
      "Disconnecting: Too many authentication failures [preauth]",
      "Connection closed by 192.0.2.1 port 1 [preauth]",
      "Disconnected from user a 192.0.2.1 port 1",
      "Received disconnect from 192.0.2.1: 11: Bye Bye [preauth]",
      "Did not receive identification string from 192.0.2.1",
      "reverse mapping checking getaddrinfo for h.example.com [192.0.2.1] failed - POSSIBLE BREAK-IN ATTEMPT!",
      "Server listening on 0.0.0.0 port 22.",
    ];
    const exec = vi.spyOn(RegExp.prototype, "exec");
    for (const m of messages) {
      exec.mockClear();
      parseSshdMessage(m);
      expect(exec.mock.calls.length, m).toBeLessThanOrEqual(2);
    }
  });

  it("stays linear on 64 KiB adversarial messages", () => {
    const n = 60_000;
    const adversarial = [
      `Failed password for ${"a from b ".repeat(n / 9)}`,
      `Failed password for ${" ".repeat(n)}x`,
      `Invalid user ${"x from ".repeat(n / 7)}`,
      `Connection closed by authenticating user ${"a ".repeat(n / 2)}`,
      `Disconnected from user ${"a ".repeat(n / 2)}port`,
      `Disconnecting authenticating user ${"a b port 1".repeat(n / 10)}`,
      `Received disconnect from ${":".repeat(n)}`,
      `pam_unix(sshd:session): session opened for user ${"(uid=1)".repeat(n / 7)}`,
      `pam_unix(sshd:session): session closed for user ${"(uid=1)".repeat(n / 7)}x`,
      `pam_unix(sshd:auth): authentication failure; ${" rhost=".repeat(n / 7)}`,
      `error: maximum authentication attempts exceeded for ${"x from y port 1 ".repeat(n / 16)}`,
    ];
    for (const m of adversarial) {
      const t0 = performance.now();
      parseSshdMessage(m);
      expect(performance.now() - t0, m.slice(0, 60)).toBeLessThan(250);
    }
  });
});

describe("counted as fail2ban counts", () => {
  it("a rejected public key of a valid user is not an attempt; of an invalid user it is", () => {
    expect(parseSshdMessage("Failed publickey for alice from 192.0.2.4 port 50022 ssh2: RSA SHA256:abc")).toMatchObject({ "event.type": "info", "event.outcome": "failure" });
    expect(parseSshdMessage("Failed publickey for invalid user bob from 192.0.2.4 port 50022 ssh2")).toMatchObject({ "event.type": "start", "event.outcome": "failure" });
  });

  it("Received disconnect with code 3 'Auth fail' is a failed attempt", () => {
    expect(parseSshdMessage("error: Received disconnect from 198.51.100.3: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]")).toMatchObject({
      "event.action": "ssh_disconnect_auth_fail",
      "event.category": "authentication",
      "event.type": "start",
      "event.outcome": "failure",
      "source.ip": "198.51.100.3",
    });
    expect(parseSshdMessage("Received disconnect from 198.51.100.3: 11: Bye Bye [preauth]")).toMatchObject({ "event.category": "network", "event.outcome": "unknown" });
  });
});
