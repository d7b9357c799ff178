#!/usr/bin/env node
// Synthetic, deterministic OpenSSH auth.log generator for benchmarks.
//
//   node bench/gen/gen-auth-log.mjs OUT [--lines N] [--seed S] [--host NAME] [--start "Mmm dd HH:MM:SS"]
//        [--doc-addresses]   (IPv4 from the RFC 5737 documentation ranges only: for shipped samples)
//
// Writes exactly N lines (default 1,000,000) of classic syslog text
// (`Mmm dd HH:MM:SS host prog[pid]: message`) to OUT.  Same seed => same file.
//
// The mix is modelled on a real brute-forced host (LogHub OpenSSH_2k, "LabSZ"):
//   * each TCP connection is one sshd[pid] whose lines stay together in pid
//     order (pids grow by small steps, like the real log); connections of
//     different sources interleave in time;
//   * ~60% of attack connections are a single password guess for root
//     (`pam_unix(sshd:auth): authentication failure; ... user=root`,
//     `Failed password for root from A port P ssh2`, then
//     `Received disconnect from A: 11: Bye Bye [preauth]`), ~30% are
//     dictionary attacks on invalid users (`Invalid user`,
//     `input_userauth_request`, `check pass; user unknown`, pam failure,
//     `Failed password for invalid user`), some with several attempts per
//     connection, a few ending in `message repeated N times: [ Failed ...]`,
//     `error: maximum authentication attempts exceeded ...` and/or
//     `Disconnecting: Too many authentication failures ...`, plus scanners
//     (`Did not receive identification string`, bare `Connection closed`);
//   * sources with reverse DNS log `rhost=<host name>` in pam lines; sources
//     whose PTR does not map back log `POSSIBLE BREAK-IN ATTEMPT!` first;
//   * ~5,000 attacker IPv4 addresses (plus ~250 IPv6 in 2001:db8::/32) with
//     Zipf-distributed (heavy-tailed) activity arriving in bursty campaigns;
//     ~300 legitimate client addresses logging in with password/publickey
//     (sometimes after a typo), with pam session and systemd-logind lines;
//   * CRON sessions every few minutes.
// Average rate is ~3.5 lines/s, so 1M lines span ~3.3 days.
// IPv4 addresses are random but public-looking (no private, loopback,
// link-local, CGNAT, multicast or documentation ranges).

import { openSync, writeSync, closeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

// ---------------------------------------------------------------- PRNG ----
// xmur3 string hash -> sfc32 generator: fast, good quality, fully deterministic.
function xmur3(str) {
  let h = 1779033703 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    h = Math.imul(h ^ str.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return (h ^= h >>> 16) >>> 0;
  };
}

function sfc32(a, b, c, d) {
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function makeRng(seed) {
  const h = xmur3(String(seed));
  const next = sfc32(h(), h(), h(), h());
  for (let i = 0; i < 20; i++) next(); // warm up
  const rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    exp: (mean) => -Math.log(1 - next()) * mean,
    // Pareto with minimum xm and shape alpha (heavy tail for alpha <= 2)
    pareto: (xm, alpha) => xm / Math.pow(1 - next(), 1 / alpha),
    // weighted choice over [[weight, value], ...]
    weighted: (pairs) => {
      let total = 0;
      for (const [w] of pairs) total += w;
      let r = next() * total;
      for (const [w, v] of pairs) if ((r -= w) < 0) return v;
      return pairs[pairs.length - 1][1];
    },
  };
  return rng;
}

// ------------------------------------------------------------- addresses ----
// Reject non-public IPv4 space so the file looks like real Internet traffic.
function isPublicV4(a, b, c) {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this-net, private, loopback, multicast/reserved
  if (a === 100 && b >= 64 && b <= 127) return false; // CGNAT 100.64/10
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b <= 31) return false; // private 172.16/12
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF / TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking 198.18/15
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

/** Documentation ranges only (RFC 5737 TEST-NET-1/2/3): for samples that ship with the project. */
function docV4(rng, used) {
  for (;;) {
    const net = rng.pick(["192.0.2", "198.51.100", "203.0.113"]);
    const ip = `${net}.${rng.int(1, 254)}`;
    if (used.has(ip)) continue;
    used.add(ip);
    return ip;
  }
}

let docOnly = false;

function randomV4(rng, used) {
  if (docOnly) return docV4(rng, used);
  for (;;) {
    const a = rng.int(1, 223), b = rng.int(0, 255), c = rng.int(0, 255), d = rng.int(1, 254);
    if (!isPublicV4(a, b, c)) continue;
    const ip = `${a}.${b}.${c}.${d}`;
    if (used.has(ip)) continue;
    used.add(ip);
    return ip;
  }
}

// 2001:db8:xxxx:xxxx::xxxx (documentation prefix), canonical lower-case form.
function randomV6(rng, used) {
  for (;;) {
    const h = () => rng.int(1, 0xffff).toString(16);
    const ip = `2001:db8:${h()}:${h()}::${h()}`;
    if (used.has(ip)) continue;
    used.add(ip);
    return ip;
  }
}

const ISP_DOMAINS = [
  "dynamic.adsl.example-telecom.net", "static.broadband.example-isp.com", "pool.cable.example.org",
  "dyn.mobile.example-carrier.net", "compute.cloud-provider.example", "rev.hosting-example.eu",
  "ip.dsl.example.com.br", "dynamic-dsl-ip.example.net.om", "static.vps.example.ru", "hinet-ip.example.net.tw",
];

function ptrName(rng, ip) {
  const dashed = ip.replace(/[.:]/g, "-");
  const style = rng.int(0, 3);
  // Reserved names only (RFC 2606) for shipped samples.
  const dom = docOnly ? rng.pick(["dsl.example.net", "pool.cable.example.org", "rev.example.com", "mobile.isp.example"]) : rng.pick(ISP_DOMAINS);
  if (docOnly && style === 3) return `ns${rng.int(1, 9)}.${rng.pick(["mail", "srv", "web", "vps"])}${rng.int(1, 999)}.example`;
  if (style === 0) return `${dashed}.${dom}`;
  if (style === 1) return `${ip.replace(/:/g, "-")}.${dom}`; // "5.36.59.76.dynamic-dsl-ip..."
  if (style === 2) return `host-${dashed}.${dom}`;
  return `ns${rng.int(1, 9)}.${rng.pick(["mail", "srv", "web", "vps"])}${rng.int(1, 999)}.example${rng.int(1, 99)}.com`;
}

// ------------------------------------------------------------ user names ----
const INVALID_USERS = [
  [30, "admin"], [8, "support"], [6, "oracle"], [6, "test"], [6, "user"], [5, "guest"], [4, "ubnt"],
  [4, "postgres"], [4, "ftpuser"], [4, "ubuntu"], [3, "pi"], [3, "git"], [3, "mysql"], [3, "nagios"],
  [3, "deploy"], [3, "webmaster"], [3, "cisco"], [3, "hadoop"], [2, "test1"], [2, "test2"], [2, "default"],
  [2, "anonymous"], [2, "operator"], [2, "monitor"], [2, "www"], [2, "matlab"], [2, "inspur"], [2, "0"],
  [2, "1234"], [1, "PlcmSpIp"], [1, "Management"], [1, "api"], [1, "vnc"], [1, "redhat"], [1, "tomcat"],
  [1, "jenkins"], [1, "minecraft"], [1, "teamspeak"], [1, "odoo"], [1, "zabbix"], [1, "elastic"],
  [1, "es"], [1, "dev"], [1, "student"], [1, "sinusbot"], [1, "steam"], [1, "uucp"], [1, "chen"],
];
// Existing system accounts that password guessers also try (besides root).
const SYSTEM_USERS = ["uucp", "ftp", "sshd", "git", "mysql", "bin", "nobody", "mail", "postgres", "www-data"];
const LEGIT_USERS = ["fztu", "jsmith", "akumar", "mgarcia", "ops", "backup", "ci-runner", "lwang", "pnovak", "root"];

// ------------------------------------------------------------- generator ----
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function parseStart(s) {
  const m = /^([A-Z][a-z]{2})\s+(\d{1,2}) (\d\d):(\d\d):(\d\d)$/.exec(s);
  if (!m || !MONTHS.includes(m[1])) throw new Error(`bad --start ${s} (want "Mmm dd HH:MM:SS")`);
  // Any non-leap year works: the syslog format has no year.
  return Date.UTC(2023, MONTHS.indexOf(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

// Cache the "Mmm dd HH:MM:SS" prefix per second (many lines share one second).
function makeStamp() {
  let lastT = -1, last = "";
  return (t) => {
    if (t !== lastT) {
      const d = new Date(t * 1000);
      const p2 = (n) => (n < 10 ? "0" : "") + n;
      const day = d.getUTCDate();
      last = `${MONTHS[d.getUTCMonth()]} ${day < 10 ? " " : ""}${day} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      lastT = t;
    }
    return last;
  };
}

// Binary min-heap of events ordered by (t, seq): stable for equal times, so a
// connection's lines (pushed in order) are always written in order.
class Heap {
  constructor() { this.a = []; }
  get size() { return this.a.length; }
  push(e) {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop() {
    const a = this.a, top = a[0], last = a.pop();
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
const less = (x, y) => x.t < y.t || (x.t === y.t && x.seq < y.seq);

/**
 * Generate the log.  Returns { lines, seconds, sources, firstTs, lastTs }.
 * @param {string} out  output path
 * @param {{lines?: number, seed?: string|number, host?: string, start?: string}} opts
 */
export function generateAuthLog(out, opts = {}) {
  docOnly = opts.docAddresses === true;
  const N = opts.lines ?? 1_000_000;
  const rng = makeRng(opts.seed ?? 1);
  const host = opts.host ?? "srv01";
  const t0 = parseStart(opts.start ?? "Mar  3 06:25:13");
  const stamp = makeStamp();

  // ---- population
  const used = new Set();
  const attackers = [];
  const mkSource = (ip, v6) => {
    const hasPtr = rng.chance(v6 ? 0.1 : 0.2);
    const name = hasPtr ? ptrName(rng, ip) : null;
    return {
      ip,
      ptr: name,
      // PTR exists but does not map back -> sshd logs POSSIBLE BREAK-IN ATTEMPT and pam sees the IP
      mismatch: hasPtr && rng.chance(0.5),
      style: rng.weighted([[68, "root"], [24, "dict"], [8, "scan"]]),
      modern: rng.chance(0.35), // newer OpenSSH wording for the same events
    };
  };
  for (let i = 0; i < (docOnly ? 450 : 5000); i++) attackers.push(mkSource(randomV4(rng, used), false));
  for (let i = 0; i < (docOnly ? 50 : 250); i++) attackers.push(mkSource(randomV6(rng, used), true));
  // Shuffle so IPv6 sources are spread through the Zipf ranks.
  for (let i = attackers.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [attackers[i], attackers[j]] = [attackers[j], attackers[i]];
  }
  // Zipf(s=0.9) weights over ranks -> cumulative table for O(log n) sampling.
  const cum = new Float64Array(attackers.length);
  let acc = 0;
  for (let i = 0; i < attackers.length; i++) cum[i] = acc += 1 / Math.pow(i + 1, 0.9);
  const pickAttacker = () => {
    const r = rng.next() * acc;
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < r) lo = mid + 1; else hi = mid;
    }
    return attackers[lo];
  };
  const legit = [];
  for (let i = 0; i < (docOnly ? 200 : 300); i++) {
    const v6 = rng.chance(0.1);
    const ip = v6 ? randomV6(rng, used) : randomV4(rng, used);
    legit.push({ ip, user: rng.pick(LEGIT_USERS), ptr: rng.chance(0.5) ? ptrName(rng, ip) : null, key: rng.chance(0.7) });
  }

  // ---- output buffering
  const fd = openSync(out, "w");
  let buf = [], bufLen = 0, written = 0;
  const flush = () => {
    if (buf.length) writeSync(fd, buf.join(""));
    buf = []; bufLen = 0;
  };

  // ---- event queue: {t, seq, line} for log lines, {t, seq, fn} for scheduled actions
  const heap = new Heap();
  let seq = 0;
  const at = (t, line) => heap.push({ t, seq: seq++, line });
  const schedule = (t, fn) => heap.push({ t, seq: seq++, fn });

  // pids grow by small steps (other processes take some) and wrap at pid_max.
  const PID_MAX = 4194304;
  let pid = 24200 + rng.int(0, 500);
  const nextPid = () => {
    pid += rng.weighted([[60, 1], [25, 2], [10, 3], [5, rng.int(4, 30)]]);
    if (pid >= PID_MAX) pid = 300 + (pid % PID_MAX);
    return pid;
  };
  const logindPid = 700 + rng.int(0, 300);
  let logindSession = rng.int(100, 900);
  const sshd = (p) => `${host} sshd[${p}]: `;
  const port = () => rng.int(1024, 65535);
  const rhostOf = (s) => (s.ptr && !s.mismatch ? s.ptr : s.ip);
  const pamFail = (s, user) =>
    `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${rhostOf(s)} ${user ? ` user=${user}` : ""}`;
  const breakin = (s) =>
    s.modern
      ? `Address ${s.ip} maps to ${s.ptr}, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!`
      : `reverse mapping checking getaddrinfo for ${s.ptr} [${s.ip}] failed - POSSIBLE BREAK-IN ATTEMPT!`;

  // End of a connection that did not hit the attempt limit.
  function closeLine(s, P) {
    const k = rng.weighted([[80, 0], [8, 1], [4, 2], [7.2, 3], [0.5, 4], [0.3, 5]]);
    if (k === 0) return s.modern ? `Received disconnect from ${s.ip} port ${P}:11: Bye Bye [preauth]` : `Received disconnect from ${s.ip}: 11: Bye Bye [preauth]`;
    if (k === 1) return `error: Received disconnect from ${s.ip}: 14: No more user authentication methods available. [preauth]`;
    if (k === 2) return `Received disconnect from ${s.ip}: 11: Closed due to user request. [preauth]`;
    if (k === 4) return `error: Received disconnect from ${s.ip}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]`;
    if (k === 5) return "fatal: Write failed: Connection reset by peer [preauth]";
    return s.modern ? `Connection closed by ${s.ip} port ${P} [preauth]` : `Connection closed by ${s.ip} [preauth]`;
  }

  // Attempt limit reached (MaxAuthTries=6): old or new OpenSSH wording, then PAM's summary.
  function tooMany(s, p, t, user, invalid, P) {
    if (s.modern) {
      at(t, sshd(p) + `error: maximum authentication attempts exceeded for ${invalid ? "invalid user " : ""}${user} from ${s.ip} port ${P} ssh2 [preauth]`);
      at(t, sshd(p) + "Disconnecting: Too many authentication failures [preauth]");
    } else {
      at(t, sshd(p) + `Disconnecting: Too many authentication failures for ${user} [preauth]`);
    }
    at(t, sshd(p) + `PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=${rhostOf(s)} ${invalid ? "" : ` user=${user}`}`);
    at(t, sshd(p) + "PAM service(sshd) ignoring max retries; 6 > 3");
  }

  // Number of password attempts in one attack connection (most try once).
  const attemptsPerConn = () => rng.weighted([[90, 1], [4, 2], [2, 3], [1, 4], [1, 5], [2, 6]]);

  // One attack connection starting at t; returns its last timestamp.
  function attackConnection(s, t) {
    const p = nextPid();
    const P = port();
    if (s.ptr && s.mismatch) at(t, sshd(p) + breakin(s));
    const style = rng.chance(0.15) ? rng.weighted([[68, "root"], [24, "dict"], [8, "scan"]]) : s.style;
    if (style === "scan") {
      if (rng.chance(0.5)) at(t + rng.int(0, 120), sshd(p) + `Did not receive identification string from ${s.ip}${s.modern ? ` port ${P}` : ""}`);
      else at(t + rng.int(0, 10), sshd(p) + (s.modern ? `Connection closed by ${s.ip} port ${P} [preauth]` : `Connection closed by ${s.ip} [preauth]`));
      return t;
    }
    const n = attemptsPerConn();
    if (style === "root") {
      // mostly root, sometimes another existing account
      const user = rng.chance(0.9) ? "root" : rng.pick(SYSTEM_USERS);
      at(t, sshd(p) + pamFail(s, user));
      t += rng.int(1, 3);
      const failed = `Failed password for ${user} from ${s.ip} port ${P} ssh2`;
      at(t, sshd(p) + failed);
      if (n > 1 && rng.chance(0.6)) {
        // rsyslog folds identical consecutive messages
        t += 2 * (n - 1) + rng.int(0, 3);
        at(t, sshd(p) + `message repeated ${n - 1} times: [ ${failed}]`);
      } else {
        for (let i = 1; i < n; i++) at((t += rng.int(2, 4)), sshd(p) + failed);
      }
      if (n === 6) tooMany(s, p, t, user, false, P);
      else at(t + rng.int(0, 1), sshd(p) + closeLine(s, P));
      return t;
    }
    // dictionary attack on an (invalid) user name
    const user = rng.weighted(INVALID_USERS);
    at(t, sshd(p) + `Invalid user ${user} from ${s.ip}${s.modern ? ` port ${P}` : ""}`);
    at(t, sshd(p) + `input_userauth_request: invalid user ${user} [preauth]`);
    if (rng.chance(0.04)) {
      at(t + rng.int(0, 2), sshd(p) + `Failed none for invalid user ${user} from ${s.ip} port ${P} ssh2`);
      at(t + rng.int(2, 4), sshd(p) + closeLine(s, P));
      return t;
    }
    at(t, sshd(p) + "pam_unix(sshd:auth): check pass; user unknown");
    at(t, sshd(p) + pamFail(s, null));
    t += rng.int(1, 3);
    at(t, sshd(p) + `Failed password for invalid user ${user} from ${s.ip} port ${P} ssh2`);
    for (let i = 1; i < n; i++) {
      at(t, sshd(p) + "pam_unix(sshd:auth): check pass; user unknown");
      at((t += rng.int(2, 3)), sshd(p) + `Failed password for invalid user ${user} from ${s.ip} port ${P} ssh2`);
    }
    if (n === 6) tooMany(s, p, t, user, true, P);
    else at(t + rng.int(0, 1), sshd(p) + closeLine(s, P));
    return t;
  }

  // A campaign: one source opens K connections back to back (heavy-tailed K).
  function startCampaign(t) {
    const s = pickAttacker();
    let k = rng.chance(0.45) ? 1 : Math.min(3000, Math.floor(rng.pareto(2, 1.1)));
    const gap = rng.weighted([[50, 2], [30, 8], [20, 40]]); // mean seconds between connections
    const step = (tt) => {
      const end = attackConnection(s, tt);
      if (--k > 0) schedule(end + Math.round(rng.exp(gap)), step);
    };
    step(t);
  }

  // Legitimate login: optional typo, Accepted, session, logout minutes/hours later.
  function legitLogin(t) {
    const u = rng.pick(legit);
    const p = nextPid(), P = port();
    const rh = u.ptr ?? u.ip;
    if (!u.key && rng.chance(0.12)) {
      at(t, sshd(p) + `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${rh}  user=${u.user}`);
      at((t += rng.int(2, 4)), sshd(p) + `Failed password for ${u.user} from ${u.ip} port ${P} ssh2`);
      t += rng.int(3, 8);
    }
    at(t, sshd(p) + `Accepted ${u.key ? "publickey" : "password"} for ${u.user} from ${u.ip} port ${P} ssh2${u.key ? `: RSA SHA256:${b64(rng, 43)}` : ""}`);
    at(t, sshd(p) + `pam_unix(sshd:session): session opened for user ${u.user} by (uid=0)`);
    const sid = ++logindSession;
    at(t, `${host} systemd-logind[${logindPid}]: New session ${sid} of user ${u.user}.`);
    const end = t + Math.round(rng.pareto(30, 1.2));
    at(end, sshd(p) + `Received disconnect from ${u.ip}: 11: disconnected by user`);
    at(end, sshd(p) + `pam_unix(sshd:session): session closed for user ${u.user}`);
    at(end, `${host} systemd-logind[${logindPid}]: Removed session ${sid}.`);
  }

  function cron(t) {
    const p = nextPid();
    const hourly = t % 3600 === 1020; // xx:17, as in Debian's /etc/crontab
    at(t, `${host} CRON[${p}]: pam_unix(cron:session): session opened for user root by (uid=0)`);
    at(t, `${host} CRON[${p}]: (root) CMD (${hourly ? "   cd / && run-parts --report /etc/cron.hourly" : "command -v debian-sa1 > /dev/null && debian-sa1 1 1"})`);
    at(t + (hourly ? 1 : 0), `${host} CRON[${p}]: pam_unix(cron:session): session closed for user root`);
  }

  // ---- arrival processes (rates tuned for ~3.5 lines/s overall)
  const CAMPAIGN_MEAN_GAP = 6.5; // seconds between new campaigns
  const LEGIT_MEAN_GAP = 900; // seconds between legitimate logins
  schedule(t0, function campaigns(t) {
    startCampaign(t);
    schedule(t + Math.round(rng.exp(CAMPAIGN_MEAN_GAP)), campaigns);
  });
  schedule(t0 + 60, function logins(t) {
    legitLogin(t);
    schedule(t + Math.max(1, Math.round(rng.exp(LEGIT_MEAN_GAP))), logins);
  });
  const firstCron = t0 - (t0 % 600) + 600 + 1020 % 600; // xx:x7:00, every 10 minutes
  schedule(firstCron, function crons(t) {
    cron(t);
    schedule(t + 600, crons);
  });

  // ---- main loop: pop events in time order until N lines are written
  const sources = new Set();
  let firstTs = null, lastTs = null;
  while (written < N) {
    const e = heap.pop();
    if (e.fn) { e.fn(e.t); continue; }
    const s = stamp(e.t) + " " + e.line + "\n";
    buf.push(s);
    bufLen += s.length;
    written++;
    if (firstTs === null) firstTs = e.t;
    lastTs = e.t;
    if (bufLen > 1 << 20) flush();
    if (opts.collectSources) {
      const m = / from (\d+\.\d+\.\d+\.\d+|2001:db8:[0-9a-f:]+?)(?::? |$)/.exec(e.line);
      if (m) sources.add(m[1]);
    }
  }
  flush();
  closeSync(fd);
  return { lines: written, firstTs, lastTs, sources: opts.collectSources ? sources.size : undefined };
}

function b64(rng, n) {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let s = "";
  for (let i = 0; i < n; i++) s += A[rng.int(0, 63)];
  return s;
}

// ------------------------------------------------------------------- CLI ----
function main(argv) {
  const args = { lines: 1_000_000, seed: "1", host: undefined, start: undefined };
  let out = null, help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--lines") args.lines = Number(val());
    else if (a === "--seed") args.seed = val();
    else if (a === "--host") args.host = val();
    else if (a === "--start") args.start = val();
    else if (a === "--doc-addresses") args.docAddresses = true;
    else if (a === "-h" || a === "--help") help = true;
    else if (!a.startsWith("-") && out === null) out = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (help || !out || !Number.isInteger(args.lines) || args.lines < 0) {
    console.error('usage: node bench/gen/gen-auth-log.mjs OUT [--lines N] [--seed S] [--host NAME] [--start "Mmm dd HH:MM:SS"] [--doc-addresses]');
    process.exit(help ? 0 : 2);
  }
  const t = performance.now();
  const r = generateAuthLog(out, { ...args, collectSources: true });
  const secs = (performance.now() - t) / 1000;
  const span = r.lastTs !== null ? ((r.lastTs - r.firstTs) / 86400).toFixed(2) : "0";
  console.error(`wrote ${r.lines} lines to ${out} in ${secs.toFixed(2)} s (${r.sources} source addresses, ${span} days of log time)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(String(err instanceof Error ? err.message : err));
    process.exit(2);
  }
}
