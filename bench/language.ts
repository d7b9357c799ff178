/**
 * The rule language's own costs, away from I/O: how long a 1,000-rule pack takes to load
 * (parse, check, compile), and how fast compiled conditions run against a hand-written
 * JavaScript closure for the same condition and against json-rules-engine, on ~200,000
 * generated ECS events (flat dotted keys; two conditions also on the nested form), decoded
 * from JSON lines as a consumer of the event stream gets them.
 *
 * Method. Every variant runs through the same counting loop, warmed with every variant first,
 * so that no variant is inlined into the loop and each is called as an engine calls a rule (a
 * megamorphic call). All Vigil conditions are compiled and run before any timing, as in a pack
 * where many rules share the compiler's closures. Synchronous variants: best of 3 runs, a run
 * being PASSES passes over the events. json-rules-engine is async: it is timed over a prefix of
 * the same events (JRE_EVENTS), awaiting each `engine.run(facts)` in turn (its sequential,
 * per-event use) and, separately, with `Promise.all` over chunks of JRE_CHUNK events; best of 3
 * each, the better of the two is the one compared. Sanity: Vigil and the hand-written closure
 * must agree event by event on all events, and json-rules-engine on its prefix; any
 * disagreement is printed and fails the suite.
 */
import { Engine, type NestedCondition, type RuleProperties, type TopLevelCondition } from "json-rules-engine";
import { createRequire } from "node:module";
import { availableParallelism, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { loadPack, parseFile, SourceFile, type EventFields, type PackFile } from "../dsl/index.js";
import { fmtRate, fmtRatio, printTable } from "./table.js";
import { rng } from "./rng.js";

export interface LanguageOptions {
  /** Generated events for the evaluation table. */
  readonly events: number;
  /** Rules in the generated pack for the compile-time table. */
  readonly rules: number;
}

const PASSES = 5;
const JRE_EVENTS = 10_000;
const JRE_CHUNK = 500;

// ---------------------------------------------------------------------------------------
// Deterministic generation


interface Rand {
  (): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

function makeRand(seed: number): Rand {
  const next = rng(seed);
  const r = (() => next()) as Rand;
  r.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  r.pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  r.chance = (p) => next() < p;
  return r;
}

const ADMINS = ["root", "admin", "administrator", "oracle", "postgres", "ubuntu"] as const;
const SERVICE_ACCOUNTS = ["svc_backup", "jenkins", "ansible", "deploy", "nagios"] as const;
const PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"] as const;
const HOSTS = ["web-01", "web-02", "db-01", "bastion", "ci-runner-3", "mail-01", "k8s-node-7"] as const;
const BROWSERS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "curl/8.5.0",
  "python-requests/2.31.0",
  "Go-http-client/1.1",
] as const;
const SCANNERS = ["sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000562)", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"] as const;
const PATHS = ["/", "/login", "/api/v1/users", "/api/v1/orders", "/static/app.js", "/static/style.css", "/search", "/admin", "/wp-login.php", "/health"] as const;
const DOMAINS = ["example.com", "api.example.net", "cdn.example.org", "updates.vendor.test", "mail.example.com", "login.example.net"] as const;

function ipv4(r: Rand): string {
  const x = r();
  if (x < 0.3) return `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
  if (x < 0.4) return `192.168.${r.int(0, 255)}.${r.int(1, 254)}`;
  if (x < 0.45) return `172.${r.int(16, 31)}.${r.int(0, 255)}.${r.int(1, 254)}`;
  return `${r.pick([198, 203, 185, 45, 91, 103])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function anyIp(r: Rand): string {
  return r.chance(0.02) ? `2001:db8:${r.int(0, 0xffff).toString(16)}::${r.int(1, 0xffff).toString(16)}` : ipv4(r);
}

function userName(r: Rand): string {
  const x = r();
  if (x < 0.25) return r.pick(ADMINS);
  if (x < 0.35) return r.pick(SERVICE_ACCOUNTS);
  if (x < 0.9) return r.pick(PEOPLE);
  return `u${r.int(1000, 9999)}`;
}

function timestamp(i: number): string {
  return new Date(Date.UTC(2025, 11, 10, 7, 0, 0) + i * 37).toISOString();
}

/** One ECS event with flat dotted keys; fields in a fixed order per kind, as a shipper writes them. */
function makeEvent(r: Rand, i: number): EventFields {
  const kind = r();
  const ts = timestamp(i);
  if (kind < 0.35) {
    const ip = anyIp(r);
    const svc = r.chance(0.7) ? "sshd" : r.pick(["vpn", "webapp", "sudo"]);
    const failure = r.chance(0.6);
    return {
      "@timestamp": ts,
      "event.kind": "event",
      "event.category": "authentication",
      "event.type": r.chance(0.9) ? "start" : "info",
      "event.outcome": failure ? "failure" : "success",
      "event.action": failure ? "ssh_login_failed" : "ssh_login",
      "service.name": svc,
      "host.name": r.pick(HOSTS),
      "user.name": userName(r),
      "source.ip": ip,
      "source.address": ip,
      "source.port": r.int(1024, 65535),
    };
  }
  if (kind < 0.7) {
    const status = r.pick([200, 200, 200, 200, 200, 200, 200, 304, 301, 302, 404, 404, 403, 401, 400, 429, 500, 502, 503]);
    const ua = r.chance(0.03) ? r.pick(SCANNERS) : r.pick(BROWSERS);
    const path = r.chance(0.02) ? r.pick(["/static/../../etc/passwd", "/download?f=../../../../etc/shadow", "/img/..%2f..%2fconfig"]) : r.pick(PATHS);
    const ev: EventFields = {
      "@timestamp": ts,
      "event.kind": "event",
      "event.category": "web",
      "event.type": "access",
      "event.outcome": status < 400 ? "success" : "failure",
      "service.name": "nginx",
      "host.name": r.pick(HOSTS),
      "source.ip": anyIp(r),
      "http.request.method": r.pick(["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"]),
      "url.path": path,
      "http.response.status_code": status,
      "http.response.body.bytes": r.int(0, 50_000),
      "user_agent.original": ua,
    };
    // Like a real shipper, no url.query key when the request has none.
    if (r.chance(0.4)) {
      ev["url.query"] = r.chance(0.05)
        ? r.pick(["id=1+union+select+username,password+from+users", "q=x%27%20union%20all%20select%20null--", "id=1%20UNION%20SELECT%201,2", "cat=2&sort=union"])
        : r.pick(["page=2", "q=shoes&sort=price", "id=42", "utm_source=newsletter&utm_medium=email", "lang=en"]);
    }
    return ev;
  }
  if (kind < 0.82) {
    const sensitive = r.chance(0.3);
    return {
      "@timestamp": ts,
      "event.kind": "event",
      "event.category": "file",
      "event.type": "change",
      "event.action": r.pick(["creation", "modification", "modification", "deletion", "rename", "access"]),
      "host.name": r.pick(HOSTS),
      "user.name": userName(r),
      "process.name": r.pick(["vim", "bash", "python3", "apt", "sshd", "cp"]),
      "file.path": sensitive
        ? r.pick(["/etc/passwd", "/etc/shadow", "/etc/ssh/sshd_config", "/etc/sudoers", "/etc/cron.d/backup"])
        : r.pick(["/var/log/syslog", "/home/alice/notes.txt", "/tmp/build.log", "/opt/app/config.yml", "/usr/local/bin/tool"]),
    };
  }
  if (kind < 0.94) {
    const big = r.chance(0.05);
    return {
      "@timestamp": ts,
      "event.kind": "event",
      "event.category": "network",
      "event.type": "connection",
      "event.action": "flow",
      "host.name": r.pick(HOSTS),
      "source.ip": ipv4(r),
      "source.port": r.int(1024, 65535),
      "destination.ip": anyIp(r),
      "destination.port": r.chance(0.1) ? r.pick([22, 23, 3389, 4444, 5900]) : r.pick([443, 443, 443, 80, 53, 8080, 5432, 6379]),
      "network.transport": r.chance(0.9) ? "tcp" : "udp",
      "network.direction": r.pick(["outbound", "outbound", "inbound", "internal"]),
      "network.bytes": big ? r.int(1_000_001, 500_000_000) : r.int(40, 1_000_000),
    };
  }
  const x = r();
  const name =
    x < 0.015
      ? `${r.pick(["duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad", "facebookcorewwwi", "abcxyz234567qrst"])}.onion`
      : x < 0.03
        ? `${Array.from({ length: 64 }, () => r.pick([..."abcdefghijklmnopqrstuvwxyz234567"])).join("")}.t.example.net`
        : r.pick(DOMAINS);
  return {
    "@timestamp": ts,
    "event.kind": "event",
    "event.category": "network",
    "event.type": "protocol",
    "event.action": "dns_query",
    "host.name": r.pick(HOSTS),
    "source.ip": ipv4(r),
    "dns.question.name": name,
    "dns.question.type": r.pick(["A", "AAAA", "TXT", "MX"]),
  };
}

/** The same event with nested objects (`{"event": {"category": …}}`). */
function nest(flat: EventFields): EventFields {
  const out: EventFields = {};
  for (const [k, v] of Object.entries(flat)) {
    if (k.startsWith("@")) {
      out[k] = v;
      continue;
    }
    const segs = k.split(".");
    let o = out;
    for (let i = 0; i < segs.length - 1; i++) {
      const s = segs[i] as string;
      o = (o[s] ??= {}) as EventFields;
    }
    o[segs[segs.length - 1] as string] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// 1. Compile time

const PACK_HEADER = `
list admin_users = ["root", "admin", "administrator", "oracle", "postgres", "ubuntu"]
list service_accounts = ["svc_backup", "jenkins", "ansible", "deploy", "nagios"]
list internal_nets = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]
list bad_ports = [22, 23, 3389, 4444, 5900, 6667]
list scanners = ["sqlmap", "nikto", "nmap", "masscan", "zgrab", "nuclei"]

param bf_threshold = 5

macro auth_failure = event.category == "authentication" and event.outcome == "failure" and event.type == "start"
macro auth_success = event.category == "authentication" and event.outcome == "success" and event.type == "start"
macro web_request = event.category == "web" and service.name in ["nginx", "apache", "envoy"]
macro file_change = event.category == "file" and event.type == "change"
macro outbound_flow = event.category == "network" and network.direction == "outbound"
macro internal_source = source.ip in internal_nets
`;

/** A pack of `n` rules from a dozen realistic templates with varied constants. */
export function generatePack(n: number, seed = 7): PackFile {
  const r = makeRand(seed);
  const out: string[] = [PACK_HEADER];
  const sev = () => r.pick(["low", "medium", "high", "critical"]);
  for (let i = 0; i < n; i++) {
    const t = i % 12;
    const head = (name: string, title: string, tags: string) =>
      `rule ${name}_${i} {\n  title "${title} (${i})"\n  severity ${sev()}\n  risk ${r.int(10, 95)}\n  tags ${tags}\n`;
    let body: string;
    switch (t) {
      case 0:
        body =
          head("bruteforce", "Brute force", "attack.credential_access, attack.t1110.001") +
          `  when auth_failure and service.name == "${r.pick(["sshd", "vpn", "webapp", "ftp"])}"\n` +
          `  except internal_source\n  count >= ${r.pick(["$bf_threshold", "10", "20"])} within ${r.int(1, 15)}m by source.address\n` +
          `  suppress 10m by source.address\n  then block_ip(source.ip, for: ${r.pick(["1h", "30m", "1d"])}), notify("soc")\n`;
        break;
      case 1:
        body =
          head("admin_external", "Administrator login from outside", "attack.initial_access, attack.t1078") +
          `  when auth_success and user.name in admin_users and not source.ip cidr "${r.pick(["10.0.0.0/8", "10.20.0.0/16", "192.168.0.0/16"])}"\n` +
          `  then require_mfa(user.name), notify("soc", "admin login from outside")\n`;
        break;
      case 2:
        body =
          head("web_injection", "Path traversal or SQL injection", "attack.initial_access, attack.t1190") +
          `  when web_request and (url.path contains "${r.pick(["../", "..%2f", "%2e%2e/"])}" or url.query like "*union*select*" or url.query like~ "*${r.pick(["sleep(", "benchmark(", "xp_cmdshell", "information_schema"])}*")\n` +
          `  count >= ${r.int(1, 5)} within 5m by source.ip\n  then block_ip(source.ip, for: 1h)\n`;
        break;
      case 3: {
        const s = [...new Set([r.pick(["sqlmap", "nikto", "nmap"]), r.pick(["masscan", "zgrab", "nuclei"]), r.pick(["dirbuster", "gobuster", "wpscan"])])];
        body = head("scanner_ua", "Scanner user agent", "attack.reconnaissance, attack.t1595") + `  when lower(user_agent.original) matches /(${s.join("|")})/\n  suppress 1h by source.ip\n`;
        break;
      }
      case 4:
        body =
          head("client_errors", "Burst of client errors", "attack.discovery, attack.t1083") +
          `  when http.response.status_code >= 400 and http.response.status_code < ${r.pick([404, 429, 500])} and url.path startswith "/${r.pick(["api", "admin", "static", "wp-"])}"\n` +
          `  count >= ${r.int(20, 200)} within ${r.int(1, 10)}m by source.ip, host.name\n`;
        break;
      case 5:
        body =
          head("sensitive_file", "Sensitive file changed", "attack.persistence, attack.t1098") +
          `  when file_change and file.path startswith "${r.pick(["/etc/", "/etc/ssh/", "/root/.ssh/", "/etc/cron"])}" and event.action in ["modification", "deletion", "rename"] and not user.name in service_accounts\n` +
          `  then open_incident("file tampering"), isolate_host(host.name) dry_run\n`;
        break;
      case 6:
        body =
          head("exfiltration", "Large outbound transfer", "attack.exfiltration, attack.t1048") +
          `  when outbound_flow and destination.ip not in internal_nets and network.bytes > ${r.int(1, 50) * 100_000}\n` +
          `  sum(network.bytes) > ${r.int(1, 20) * 1_000_000_000} within 1h by source.ip\n`;
        break;
      case 7:
        body =
          head("bad_port", "Connection to a suspicious port", "attack.command_and_control, attack.t1571") +
          `  when event.category == "network" and (destination.port in bad_ports or destination.port in [${r.int(1, 9)}${r.int(100, 999)}, ${r.int(10000, 60000)}]) and network.transport == "tcp"\n` +
          `  except source.ip cidr "${r.pick(["10.1.0.0/16", "192.168.10.0/24"])}"\n`;
        break;
      case 8:
        body =
          head("dns_tunnel", "DNS to Tor or tunnelling", "attack.command_and_control, attack.t1071.004") +
          `  when dns.question.name endswith "${r.pick([".onion", ".bit", ".i2p"])}" or len(dns.question.name) > ${r.int(50, 80)} or dns.question.name like "*.${r.pick(["xyz", "top", "tk"])}"\n`;
        break;
      case 9:
        body =
          head("spraying", "Password spraying", "attack.credential_access, attack.t1110.003") +
          `  when auth_failure and source.ip cidr "${r.int(1, 223)}.${r.int(0, 255)}.0.0/16"\n  distinct(user.name) >= ${r.int(5, 30)} within 5m by source.ip\n`;
        break;
      case 10:
        body =
          head("reverse_shell", "Reverse shell tool", "attack.execution, attack.t1059") +
          `  when event.category == "process" and process.name in~ ["nc", "ncat", "socat", "${r.pick(["bash", "sh", "python3"])}"] and process.command_line contains "${r.pick([" -e ", "/dev/tcp/", "pty.spawn"])}"\n` +
          `  then isolate_host(host.name) approve\n`;
        break;
      default:
        body =
          head("risky_method", "Risky method on admin path", "attack.impact, attack.t1565") +
          `  when http.request.method in ["PUT", "DELETE", "PATCH"] and http.response.status_code == ${r.pick([200, 201, 204])} and (url.path startswith~ "/ADMIN" or user_agent.original ==~ "${r.pick(["curl/8.5.0", "python-requests/2.31.0"])}") and exists source.ip\n` +
          `  suppress ${r.int(5, 60)}m by source.ip\n`;
        break;
    }
    out.push(`${body}}\n`);
  }
  return { path: "bench-pack.vigil", text: out.join("\n") };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function benchCompile(n: number): boolean {
  const file = generatePack(n);
  const t0 = performance.now();
  const first = loadPack([file]);
  const cold = performance.now() - t0;
  const errors = first.diagnostics.filter((d) => d.severity === "error");
  let ok = true;
  if (errors.length > 0 || first.rules.length !== n) {
    ok = false;
    console.log(`\n!!! SANITY: the generated pack loaded ${first.rules.length}/${n} rules with ${errors.length} errors, e.g. ${errors[0]?.message ?? "-"}`);
  }
  const loads: number[] = [];
  const parses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    loadPack([file]);
    loads.push(performance.now() - a);
  }
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    parseFile(new SourceFile(file.path, file.text));
    parses.push(performance.now() - a);
  }
  const lm = median(loads);
  const pm = median(parses);
  const lmin = Math.min(...loads);
  const pmin = Math.min(...parses);
  const row = (what: string, ms: number, min: number | undefined, note: string) => [
    what,
    ms.toFixed(1),
    min === undefined ? "-" : min.toFixed(1),
    ((ms * 1000) / n).toFixed(1),
    note,
  ];
  printTable(
    `language: compile time of a generated ${n.toLocaleString("en-US")}-rule pack (${(file.text.length / 1024).toFixed(0)} KB, 12 templates, 5 lists, 6 macros)`,
    ["step", "median ms", "min ms", "µs/rule", "note"],
    [
      row("loadPack: parse + check + compile", lm, lmin, `5 runs (max ${Math.max(...loads).toFixed(1)})`),
      row("  parse alone (parseFile)", pm, pmin, `5 runs, after the loadPack runs (${((100 * pmin) / lmin).toFixed(0)}% of loadPack, by min)`),
      row("  check + compile (difference)", Math.max(0, lm - pm), Math.max(0, lmin - pmin), "loadPack − parse"),
      row("loadPack, first call (cold JIT)", cold, undefined, "1 run, before the 5"),
    ],
  );
  return ok;
}

// ---------------------------------------------------------------------------------------
// 2. Evaluation speed

type Pred = (f: EventFields) => boolean;

/** Dotted-quad IPv4 to an unsigned 32-bit number, or -1 (what a careful engineer writes for a CIDR test). */
function ipv4ToInt(s: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + c - 48;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return v * 256 + part;
}

const inNet = (ip: unknown, net: number, bits: number): boolean => {
  if (typeof ip !== "string") return false;
  const n = ipv4ToInt(ip);
  return n !== -1 && Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits));
};
const TEN = ipv4ToInt("10.0.0.0");
const PRIVATE: readonly [number, number][] = [
  [ipv4ToInt("10.0.0.0"), 8],
  [ipv4ToInt("172.16.0.0"), 12],
  [ipv4ToInt("192.168.0.0"), 16],
];
/** The hand-written twin of `internal_nets`; also true for fd00::/8, as the list holds it. */
const isInternal = (ip: string): boolean => PRIVATE.some(([net, bits]) => inNet(ip, net, bits)) || /^fd[0-9a-f]{2}:/i.test(ip);

const ADMIN_SET = new Set<unknown>(ADMINS);
const SERVICE_SET = new Set<unknown>(SERVICE_ACCOUNTS);
const ACTIONS_SET = new Set<unknown>(["modification", "deletion", "rename"]);
const PORT_SET = new Set<unknown>([22, 23, 3389, 4444, 5900]);
const SCANNER_RE = /sqlmap|nikto|nmap/i;

interface NestedEvent {
  event?: { category?: unknown; outcome?: unknown; type?: unknown };
  service?: { name?: unknown };
  http?: { response?: { status_code?: unknown } };
}

export interface Case {
  readonly id: string;
  readonly vigil: string;
  readonly hand: Pred;
  readonly jre: TopLevelCondition;
  readonly nested?: boolean;
}

const fact = (name: string, operator: string, value: unknown): NestedCondition => ({ fact: "ev", path: name, operator, value });

export const CASES: readonly Case[] = [
  {
    id: "brute-force failure filter",
    vigil: 'auth_failure and service.name == "sshd"',
    hand: (f) => f["event.category"] === "authentication" && f["event.outcome"] === "failure" && f["event.type"] === "start" && f["service.name"] === "sshd",
    jre: {
      all: [
        fact("event.category", "equal", "authentication"),
        fact("event.outcome", "equal", "failure"),
        fact("event.type", "equal", "start"),
        fact("service.name", "equal", "sshd"),
      ],
    },
  },
  {
    id: "admin list + cidr",
    vigil: 'user.name in admin_users and source.ip cidr "10.0.0.0/8"',
    hand: (f) => ADMIN_SET.has(f["user.name"]) && inNet(f["source.ip"], TEN, 8),
    jre: { all: [fact("user.name", "in", [...ADMINS]), fact("source.ip", "cidr", "10.0.0.0/8")] },
  },
  {
    id: "traversal or sqli (contains/like)",
    vigil: 'url.path contains "../" or url.query like "*union*select*"',
    hand: (f) => {
      const p = f["url.path"];
      if (typeof p === "string" && p.includes("../")) return true;
      const q = f["url.query"];
      if (typeof q !== "string") return false;
      const u = q.indexOf("union");
      return u !== -1 && q.indexOf("select", u + 5) !== -1;
    },
    jre: { any: [fact("url.path", "stringContains", "../"), fact("url.query", "like", "*union*select*")] },
  },
  {
    id: "scanner UA (lower + matches)",
    vigil: "lower(user_agent.original) matches /(sqlmap|nikto|nmap)/",
    hand: (f) => {
      const ua = f["user_agent.original"];
      return typeof ua === "string" && SCANNER_RE.test(ua);
    },
    jre: { all: [fact("user_agent.original", "matchesCi", "sqlmap|nikto|nmap")] },
  },
  {
    id: "4xx status (numeric range)",
    vigil: "http.response.status_code >= 400 and http.response.status_code < 500",
    hand: (f) => {
      const s = f["http.response.status_code"];
      return typeof s === "number" && s >= 400 && s < 500;
    },
    jre: { all: [fact("http.response.status_code", "greaterThanInclusive", 400), fact("http.response.status_code", "lessThan", 500)] },
  },
  {
    id: "file tamper (in, startswith, not in)",
    vigil: 'event.action in ["modification", "deletion", "rename"] and file.path startswith "/etc/" and not user.name in service_accounts',
    hand: (f) => {
      if (!ACTIONS_SET.has(f["event.action"])) return false;
      const p = f["file.path"];
      return typeof p === "string" && p.startsWith("/etc/") && !SERVICE_SET.has(f["user.name"]);
    },
    jre: {
      all: [
        fact("event.action", "in", ["modification", "deletion", "rename"]),
        fact("file.path", "startsWith", "/etc/"),
        { not: fact("user.name", "in", [...SERVICE_ACCOUNTS]) },
      ],
    },
  },
  {
    id: "bad port (numeric in) + direction",
    vigil: 'destination.port in [22, 23, 3389, 4444, 5900] and network.direction == "outbound"',
    hand: (f) => PORT_SET.has(f["destination.port"]) && f["network.direction"] === "outbound",
    jre: { all: [fact("destination.port", "in", [22, 23, 3389, 4444, 5900]), fact("network.direction", "equal", "outbound")] },
  },
  {
    id: "exfil (cidr list not in, >)",
    vigil: 'event.category == "network" and destination.ip not in internal_nets and network.bytes > 1000000',
    hand: (f) => {
      if (f["event.category"] !== "network") return false;
      const ip = f["destination.ip"];
      if (typeof ip !== "string" || isInternal(ip)) return false;
      const b = f["network.bytes"];
      return typeof b === "number" && b > 1_000_000;
    },
    jre: {
      all: [fact("event.category", "equal", "network"), fact("destination.ip", "notInCidrs", true), fact("network.bytes", "greaterThan", 1_000_000)],
    },
  },
  {
    id: "dns tor/tunnel (endswith, len)",
    vigil: 'dns.question.name endswith ".onion" or len(dns.question.name) > 60',
    hand: (f) => {
      const n = f["dns.question.name"];
      return typeof n === "string" && (n.endsWith(".onion") || n.length > 60);
    },
    jre: { any: [fact("dns.question.name", "endsWith", ".onion"), fact("dns.question.name", "lengthGreaterThan", 60)] },
  },
  {
    id: "brute-force filter, NESTED events",
    vigil: 'auth_failure and service.name == "sshd"',
    nested: true,
    hand: (f) => {
      const n = f as NestedEvent;
      const e = n.event;
      return e !== undefined && e.category === "authentication" && e.outcome === "failure" && e.type === "start" && n.service?.name === "sshd";
    },
    jre: {
      all: [
        fact("event.category", "equal", "authentication"),
        fact("event.outcome", "equal", "failure"),
        fact("event.type", "equal", "start"),
        fact("service.name", "equal", "sshd"),
      ],
    },
  },
  {
    id: "4xx status, NESTED events (3 levels)",
    vigil: "http.response.status_code >= 400 and http.response.status_code < 500",
    nested: true,
    hand: (f) => {
      const s = (f as NestedEvent).http?.response?.status_code;
      return typeof s === "number" && s >= 400 && s < 500;
    },
    jre: { all: [fact("http.response.status_code", "greaterThanInclusive", 400), fact("http.response.status_code", "lessThan", 500)] },
  },
];

export const EVAL_HEADER = `
list admin_users = ["root", "admin", "administrator", "oracle", "postgres", "ubuntu"]
list service_accounts = ["svc_backup", "jenkins", "ansible", "deploy", "nagios"]
list internal_nets = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]
macro auth_failure = event.category == "authentication" and event.outcome == "failure" and event.type == "start"
`;

/** Glob to an anchored RegExp (json-rules-engine has no `like`). */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*")}$`);
}

/** An engine with one rule and the operators json-rules-engine lacks (strings, glob, regex, CIDR, length). */
function makeEngine(conditions: TopLevelCondition): Engine {
  // Facts: the event as one fact, fields read by `path` with a plain resolver (flat key first,
  // then nested objects). Faster than passing each key as its own fact (which hashes every key
  // on every run) or the default JSONPath resolver.
  const pathResolver = (value: object, path: string): unknown => {
    const o = value as Record<string, unknown>;
    const flat = o[path];
    if (flat !== undefined) return flat;
    let cur: unknown = o;
    for (const seg of path.split(".")) {
      if (cur === null || typeof cur !== "object") return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
    return cur;
  };
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver });
  const regexes = new Map<string, RegExp>();
  const cached = (key: string, make: () => RegExp): RegExp => {
    let re = regexes.get(key);
    if (re === undefined) regexes.set(key, (re = make()));
    return re;
  };
  // Custom operators only apply to strings: a missing field is never a match.
  const str = (a: unknown): a is string => typeof a === "string";
  engine.addOperator<unknown, string>("stringContains", (a, b) => str(a) && a.includes(b));
  engine.addOperator<unknown, string>("startsWith", (a, b) => str(a) && a.startsWith(b));
  engine.addOperator<unknown, string>("endsWith", (a, b) => str(a) && a.endsWith(b));
  engine.addOperator<unknown, number>("lengthGreaterThan", (a, b) => str(a) && a.length > b);
  engine.addOperator<unknown, string>("like", (a, b) => str(a) && cached(`g:${b}`, () => globToRegExp(b)).test(a));
  engine.addOperator<unknown, string>("matchesCi", (a, b) => str(a) && cached(`r:${b}`, () => new RegExp(b, "i")).test(a));
  engine.addOperator<unknown, string>("cidr", (a, b) => {
    const [net, bits] = b.split("/");
    return inNet(a, ipv4ToInt(net ?? ""), Number(bits));
  });
  engine.addOperator<unknown, boolean>("notInCidrs", (a) => str(a) && !isInternal(a));
  const rule: RuleProperties = { conditions, event: { type: "match" } };
  engine.addRule(rule);
  return engine;
}

/** The counting loop shared by every synchronous variant. */
function countInto(pred: Pred, events: readonly EventFields[], out: Uint8Array | undefined): number {
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    if (pred(events[i] as EventFields)) {
      n++;
      if (out !== undefined) out[i] = 1;
    }
  }
  return n;
}

/** Events/s of each predicate: best of 3 runs, the predicates' runs interleaved (fair under shifting load). */
function timeSync(preds: readonly Pred[], events: readonly EventFields[]): number[] {
  const best = preds.map(() => Infinity);
  for (let run = 0; run < 3; run++) {
    preds.forEach((pred, k) => {
      const t0 = performance.now();
      for (let p = 0; p < PASSES; p++) countInto(pred, events, undefined);
      best[k] = Math.min(best[k] as number, performance.now() - t0);
    });
  }
  return best.map((ms) => (events.length * PASSES) / (ms / 1000));
}

async function jreSequential(engine: Engine, events: readonly EventFields[], out: Uint8Array | undefined): Promise<number> {
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    const r = await engine.run({ ev: events[i] });
    if (r.events.length > 0) {
      n++;
      if (out !== undefined) out[i] = 1;
    }
  }
  return n;
}

async function jreChunked(engine: Engine, events: readonly EventFields[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < events.length; i += JRE_CHUNK) {
    const rs = await Promise.all(events.slice(i, i + JRE_CHUNK).map((ev) => engine.run({ ev })));
    for (const r of rs) if (r.events.length > 0) n++;
  }
  return n;
}

/** Events/s of each async variant over `count` events: best of 3, interleaved. */
async function timeAsync(fs: readonly (() => Promise<number>)[], count: number): Promise<number[]> {
  const best = fs.map(() => Infinity);
  for (let run = 0; run < 3; run++) {
    for (const [k, f] of fs.entries()) {
      const t0 = performance.now();
      await f();
      best[k] = Math.min(best[k] as number, performance.now() - t0);
    }
  }
  return best.map((ms) => count / (ms / 1000));
}

const geomean = (xs: readonly number[]): number => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

/** The evaluation events: flat dotted keys, and the same events nested. */
export function generateEvents(n: number, seed = 42): { flat: EventFields[]; nested: EventFields[] } {
  const r = makeRand(seed);
  const flat: EventFields[] = [];
  // Through JSON, as a consumer of the event stream gets them (fresh strings, parser-built objects).
  for (let i = 0; i < n; i++) flat.push(JSON.parse(JSON.stringify(makeEvent(r, i))) as EventFields);
  return { flat, nested: flat.map((e) => JSON.parse(JSON.stringify(nest(e))) as EventFields) };
}

/** The Vigil text of the evaluation pack: one rule `cI` per case. */
export function evalPackText(): string {
  return EVAL_HEADER + CASES.map((c, i) => `rule c${i} {\n  severity low\n  when ${c.vigil}\n}\n`).join("\n");
}

async function benchEval(nEvents: number): Promise<{ ok: boolean; ratios: number[] }> {
  const { flat, nested } = generateEvents(nEvents);
  const jreN = Math.min(JRE_EVENTS, nEvents);

  const pack = loadPack([{ path: "bench-eval.vigil", text: evalPackText() }]);
  const errors = pack.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || pack.rules.length !== CASES.length) throw new Error(`bench conditions do not compile: ${errors.map((d) => d.message).join("; ")}`);

  const variants = CASES.map((c, i) => ({
    c,
    events: c.nested === true ? nested : flat,
    vigil: (pack.rules[i] as { match: Pred }).match,
    engine: makeEngine(c.jre),
  }));

  // Warm-up: every variant through the shared loop (and each engine) before any timing.
  const warm = flat.slice(0, 20_000);
  const warmNested = nested.slice(0, 20_000);
  for (let k = 0; k < 3; k++) {
    for (const v of variants) {
      const ev = v.c.nested === true ? warmNested : warm;
      countInto(v.vigil, ev, undefined);
      countInto(v.c.hand, ev, undefined);
    }
  }
  for (const v of variants) await jreSequential(v.engine, (v.c.nested === true ? nested : flat).slice(0, 2_000), undefined);

  let ok = true;
  const rows: string[][] = [];
  const vsHand: number[] = [];
  const vsJre: number[] = [];
  for (const v of variants) {
    const ev = v.events;
    const mv = new Uint8Array(ev.length);
    const mh = new Uint8Array(ev.length);
    const mj = new Uint8Array(jreN);
    const cv = countInto(v.vigil, ev, mv);
    const ch = countInto(v.c.hand, ev, mh);
    const cj = await jreSequential(v.engine, ev.slice(0, jreN), mj);
    let cvPrefix = 0;
    let diffHand = 0;
    let diffJre = 0;
    let firstDiff = -1;
    for (let i = 0; i < ev.length; i++) {
      if (mv[i] !== mh[i]) {
        diffHand++;
        if (firstDiff === -1) firstDiff = i;
      }
      if (i < jreN) {
        cvPrefix += mv[i] as number;
        if (mv[i] !== mj[i]) {
          diffJre++;
          if (firstDiff === -1) firstDiff = i;
        }
      }
    }
    if (diffHand > 0 || diffJre > 0 || cv === 0 || cv === ev.length) {
      ok = false;
      console.log(
        `\n!!! SANITY FAILURE [${v.c.id}]: vigil ${cv} matches, hand-written ${ch} (${diffHand} events differ); ` +
          `on the first ${jreN}: vigil ${cvPrefix}, json-rules-engine ${cj} (${diffJre} differ)` +
          (cv === 0 || cv === ev.length ? "; the condition matches none or all events" : "") +
          (firstDiff === -1 ? "" : `\n    first differing event: ${JSON.stringify(ev[firstDiff])}`),
      );
    }

    const [vRate = 0, hRate = 0] = timeSync([v.vigil, v.c.hand], ev);
    const prefix = ev.slice(0, jreN);
    const [jSeq = 0, jBatch = 0] = await timeAsync([() => jreSequential(v.engine, prefix, undefined), () => jreChunked(v.engine, prefix)], jreN);
    const jBest = Math.max(jSeq, jBatch);
    vsHand.push(vRate / hRate);
    vsJre.push(vRate / jBest);
    rows.push([
      v.c.id,
      `${cv} (${((100 * cv) / ev.length).toFixed(1)}%)`,
      fmtRate(vRate),
      fmtRate(hRate),
      fmtRate(jSeq),
      fmtRate(jBatch),
      fmtRatio(vRate / hRate) + (vRate / hRate < 0.8 ? " <0.8" : ""),
      fmtRatio(vRate / jBest),
      diffHand === 0 && diffJre === 0 ? "yes" : "NO",
    ]);
  }
  rows.push(["geometric mean", "", "", "", "", "", fmtRatio(geomean(vsHand)), fmtRatio(geomean(vsJre)), ok ? "all" : "NO"]);

  printTable(
    `language: evaluation speed, events/s, ${nEvents.toLocaleString("en-US")} generated ECS events (flat dotted keys unless NESTED); json-rules-engine on the first ${jreN.toLocaleString("en-US")}`,
    ["condition", "vigil matches", "vigil", "hand-written", "jre await", "jre batch", "vigil/hand", "vigil/jre", "agree"],
    rows,
  );
  console.log(`\nvigil: the compiled rule.match; hand-written: a JS closure reading the flat keys directly (nested: optional chaining).`);
  console.log(`Each: best of 3 runs of ${PASSES} passes (vigil and hand-written runs interleaved), after warming every variant in`);
  console.log("the shared counting loop.");
  const jreVersion = (createRequire(import.meta.url)("json-rules-engine/package.json") as { version: string }).version;
  console.log(`jre await: json-rules-engine ${jreVersion}, one engine per condition, awaiting engine.run({ ev }) per event; jre batch: Promise.all`);
  console.log(`over chunks of ${JRE_CHUNK}; vigil/jre is against the faster of the two. The event is one fact, fields read by \`path\` with a plain`);
  console.log(`resolver (about 4× faster than one fact per key, 3× faster than the default JSONPath). Operators it lacks (string, glob,`);
  console.log(`regex, CIDR, length) are custom; regexes are native RegExp (Vigil's run on RE2).`);
  console.log("Conditions (Vigil text):");
  CASES.forEach((c) => console.log(`  ${c.id}: ${c.vigil}`));
  return { ok, ratios: vsHand };
}

/** Runs the suite; returns false when a sanity check failed. */
export async function benchLanguage(opts: LanguageOptions): Promise<boolean> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const load = loadavg()[0] ?? 0;
  console.log(`\nlanguage: Node ${process.version}, ${availableParallelism()} CPUs, load average ${load.toFixed(1)} at start${load > availableParallelism() ? " (busy machine: rates are noisy; ratios less so)" : ""}`);
  const compileOk = benchCompile(opts.rules);
  const { ok } = await benchEval(opts.events);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `\nlanguage suite: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU` +
      (compileOk && ok ? "; sanity checks passed" : " — SANITY CHECK FAILED"),
  );
  return compileOk && ok;
}
