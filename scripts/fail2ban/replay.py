#!/usr/bin/python3
"""Replay a log file through fail2ban's own sshd jail machinery, in *log time*.

Why: fail2ban normally compares each line against the wall clock (findtime,
bantime, "ignore entries older than findtime").  To get a reference answer for
"which source IPs would fail2ban ban if it had been watching this log", this
script drives the installed fail2ban package's real classes, but sets fail2ban's
clock (``MyTime``) to each line's own timestamp before handing it over:

  * filter   : stock /etc/fail2ban/filter.d/sshd.conf loaded with fail2ban's own
               FilterReader (mode=normal by default), applied to a real
               ``FilterPoll`` object owned by a real ``Jail`` (never started: no
               threads, no file polling, no actions, no firewall).
  * counting : ``Filter.processLineAndAdd`` -> ``FailManager`` (maxretry 5,
               findtime 600 s by default).  NB FailManager is *not* an exact
               sliding window: once a ticket is older than findtime it rescales
               the retry count by the observed rate (FailTicket.adjustTime), and
               purges tickets whose last failure is older than findtime.
  * banning  : ``Actions.__checkBan`` / ``__checkUnBan`` with the real
               ``BanManager`` (bantime 600 s by default), called synchronously
               after every line instead of from the actions thread.

Ban semantics (what a real jail does, reproduced here by default):
  When an IP reaches maxretry, FailManager.toBan() removes its ticket (count
  restarts at 0) and the jail bans it.  The filter does NOT look at the ban
  list: failures from a banned IP keep being counted, and if it reaches
  maxretry again while still banned, BanManager answers "already banned" and
  *extends* the ban (end := new failure time + bantime).  After the ban expires,
  reaching maxretry again produces a new ban ("bans" is the number of such ban
  events per IP).  On a live system the firewall would normally stop the
  banned host from producing more log lines; ``--firewall`` simulates that by
  discarding failures from an IP while it is banned.  The *set* of banned IPs
  and each IP's first_ban_at are identical in both modes (the first ban of an
  IP happens before any ban can affect it); only "bans" / later counts differ.

DNS: no network is used.  ``usedns = no`` (default here; jail.conf's default is
``warn``) makes ``<HOST>`` match literal IPv4/IPv6 addresses only, so lines
whose only address is a host name (e.g. pam ``rhost=host.example``) simply do
not match.  All socket name-resolution functions are additionally replaced by a
guard that refuses and counts attempts (reported as ``dns_lookups_refused``),
so even ``--usedns warn|yes`` cannot touch the network (lookups just fail).
``ignoreself`` is disabled (it would resolve the local host name); ignoreip is
jail.conf's default ``127.0.0.1/8 ::1``.

Timestamps: syslog lines have no year; fail2ban assumes "this year" relative to
its clock.  We parse with the clock set to the end of ``--year`` (so every
``Mmm dd`` lands in that year) and bump the year when the log goes backwards
by more than 180 days (Dec -> Jan rollover).  Times are treated as UTC.

Usage:
  python3 scripts/fail2ban/replay.py LOGFILE [--year 2024] [--summary]
      [--maxretry 5] [--findtime 600] [--bantime 600] [--mode normal]
      [--usedns no] [--firewall]
Output (stdout): JSON
  {"banned":   [{"ip", "first_ban_at", "bans"}],        (sorted by first ban)
   "failures": [{"line", "ip", "time"}],                 (every counted failure)
   "failures_per_ip": {ip: n}, "params": {...}, "stats": {...}}
With --summary a human-readable table is printed instead.

The script runs with the system python (fail2ban lives in
/usr/lib/python3/dist-packages); with another interpreter it falls back to
adding that directory to sys.path.
"""

import argparse
import calendar
import datetime
import json
import logging
import os
import signal
import socket
import sys
import time

# Log times are interpreted (and reported) as UTC, independent of the machine.
os.environ["TZ"] = "UTC"
time.tzset()

try:
    import fail2ban  # noqa: F401
except ImportError:  # e.g. a pyenv python that does not see Debian's dist-packages
    sys.path.append("/usr/lib/python3/dist-packages")
    import fail2ban  # noqa: F401

from fail2ban.client.filterreader import FilterReader
from fail2ban.server import utils as f2b_utils
from fail2ban.server.jail import Jail
from fail2ban.server.mytime import MyTime


# --------------------------------------------------------------------------
# No-network guard: every name-resolution entry point refuses and is counted.
# --------------------------------------------------------------------------
DNS_REFUSED = []


def _refuse(name):
    def guard(*args, **kwargs):
        DNS_REFUSED.append((name, args[:1]))
        raise socket.gaierror(socket.EAI_NONAME, "replay.py: DNS disabled")
    return guard


for _fn in ("getaddrinfo", "gethostbyname", "gethostbyname_ex",
            "gethostbyaddr", "getnameinfo", "getfqdn"):
    setattr(socket, _fn, _refuse(_fn))


# --------------------------------------------------------------------------
# Log-time clock for fail2ban's internal TTL cache (Utils.Cache uses
# time.time() directly).  The filter's multi-line failure-id cache (per
# "host sshd[pid]" connection, 5 min TTL, 100 entries) must age in log time,
# not in the wall-clock time of a replay that lasts a fraction of a second.
# --------------------------------------------------------------------------
class _LogClock:
    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def time():
        return MyTime.time()


f2b_utils.time = _LogClock()


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def end_of_year(year):
    return calendar.timegm((year, 12, 31, 23, 59, 59, 0, 0, 0))


def build_jail(args):
    """A real fail2ban Jail (polling backend, never started) with the sshd filter."""
    jail = Jail("sshd", backend="polling")
    flt = jail.filter
    # Order matters: usedns decides how <HOST> is compiled into the regexes.
    flt.setUseDns(args.usedns)
    flt.ignoreSelf = False
    for ip in ("127.0.0.1/8", "::1"):
        flt.addIgnoreIP(ip)
    flt.setMaxRetry(args.maxretry)
    flt.setFindTime(args.findtime)
    flt.failManager.maxMatches = args.maxretry  # jail.conf: maxmatches = maxretry
    jail.actions.setBanTime(args.bantime)

    reader = FilterReader("sshd", "sshd", {"mode": args.mode},
                          share_config={}, basedir=args.config)
    if not reader.read():
        sys.exit("cannot read filter sshd from %s" % args.config)
    reader.applyAutoOptions("polling")  # logtype=file, as for a file backend
    reader.getOptions(None)
    regexes = []
    for cmd in reader.convert():
        # ['set', jail, opt, value...] or ['multi-set', jail, opt, [values]]
        opt = cmd[2]
        vals = cmd[3] if cmd[0] == "multi-set" else cmd[3:]
        if opt == "prefregex":
            flt.prefRegex = vals[0]
        elif opt == "addfailregex":
            for v in vals:
                flt.addFailRegex(v)
                regexes.append(v)
        elif opt == "addignoreregex":
            for v in vals:
                flt.addIgnoreRegex(v)
        elif opt == "maxlines":
            flt.setMaxLines(vals[0])
        elif opt == "datepattern":
            flt.setDatePattern(vals[0])
        # addjournalmatch: journal backend only, irrelevant for a file
    return jail, regexes


def replay(args):
    """Replay args.log; returns the result dict (see module docstring)."""
    del DNS_REFUSED[:]
    jail, regexes = build_jail(args)
    flt, actions = jail.filter, jail.actions
    fm, bm = flt.failManager, actions.banManager
    # Private methods of Actions: the body of the (not started) actions thread.
    check_ban = actions._Actions__checkBan

    def check_unban():  # unban everything whose bantime has expired at MyTime.time()
        actions._Actions__checkUnBan(0x7fffffff)

    state = {"line": 0, "regex": {}}
    failures, per_ip, per_regex, suppressed = [], {}, {}, []
    bans = {}  # ip -> {"first": ts, "bans": new-ban events, "extended": bans prolonged}

    # Record what processLine returned for the current line (regex index per failure).
    orig_process_line = flt.processLine

    def process_line(line, date=None):
        res = orig_process_line(line, date)
        state["regex"] = {str(r[1]): r[0] for r in res}
        return res
    flt.processLine = process_line

    # Every failure that reaches FailManager (after ignoreip) is what fail2ban counts.
    orig_add = fm.addFailure

    def add_failure(ticket, *a, **kw):
        ip = str(ticket.getID())
        if args.firewall and bm._inBanList(ticket):
            suppressed.append(state["line"])
            return 0  # the firewall would have dropped this host's connection
        failures.append({"line": state["line"], "ip": ip, "time": iso(ticket.getTime())})
        per_ip[ip] = per_ip.get(ip, 0) + 1
        ri = state["regex"].get(ip)
        per_regex[ri] = per_regex.get(ri, 0) + 1
        return orig_add(ticket, *a, **kw)
    fm.addFailure = add_failure

    # New ban events (BanManager.addBanTicket returns True only for a new ban).
    orig_add_ban = bm.addBanTicket

    def add_ban_ticket(ticket, reason={}):
        ok = orig_add_ban(ticket, reason=reason)
        ip = str(ticket.getID())
        if ok:
            b = bans.setdefault(ip, {"first": MyTime.time(), "bans": 0, "extended": 0})
            b["bans"] += 1
        elif reason.get("prolong") and ip in bans:
            bans[ip]["extended"] += 1
        return ok
    bm.addBanTicket = add_ban_ticket

    logging.getLogger("fail2ban").setLevel(logging.CRITICAL if not args.verbose else logging.INFO)

    dd = flt.dateDetector
    year = args.year
    ref_now = end_of_year(year)
    last = None
    nodate = 0
    with open(args.log, encoding="utf-8", errors="replace") as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            state["line"], state["regex"] = n, {}
            # 1) parse the date with fail2ban's date detector, "now" = end of --year
            MyTime.setTime(ref_now)
            tm = dd.matchTime(line)
            date = None
            if tm[0]:
                s, e = tm[0].start(1), tm[0].end(1)
                text = line[s:e]
                got = dd.getTime(text, tm)
                if got is not None:
                    date = got[0]
                    if last is not None and date < last - 180 * 86400:  # Dec -> Jan
                        year += 1
                        ref_now = end_of_year(year)
                        MyTime.setTime(ref_now)
                        date = dd.getTime(text, tm)[0]
            if date is None:
                # no timestamp: fail2ban falls back to the last known date
                nodate += 1
                MyTime.setTime(last if last is not None else ref_now)
                check_unban()
                flt.processLineAndAdd(line)
            else:
                last = date if last is None else max(last, date)
                # 2) fail2ban's clock := this line's time; expire bans first
                MyTime.setTime(date)
                check_unban()
                flt.processLineAndAdd((line[:s], text, line[e:]), date)
            # 3) hand any tickets that reached maxretry to the ban manager
            while jail.hasFailTickets:
                check_ban()
    MyTime.setTime(None)

    banned = [{"ip": ip, "first_ban_at": iso(b["first"]), "bans": b["bans"]}
              for ip, b in sorted(bans.items(), key=lambda kv: (kv[1]["first"], kv[0]))]
    return {
        "banned": banned,
        "failures": failures,
        "failures_per_ip": dict(sorted(per_ip.items(), key=lambda kv: (-kv[1], kv[0]))),
        "params": {
            "filter": os.path.join(args.config, "filter.d", "sshd.conf"),
            "mode": args.mode, "maxretry": args.maxretry, "findtime": args.findtime,
            "bantime": args.bantime, "usedns": args.usedns, "year": args.year,
            "firewall": args.firewall, "fail2ban_version": fail2ban_version(),
        },
        "stats": {
            "lines": state["line"],
            "lines_without_date": nodate,
            "failures": len(failures),
            "failure_ips": len(per_ip),
            "banned_ips": len(banned),
            "ban_events": sum(b["bans"] for b in bans.values()),
            "ban_extensions": sum(b["extended"] for b in bans.values()),
            "failures_dropped_by_firewall": len(suppressed),
            "dns_lookups_refused": len(DNS_REFUSED),
            "failures_by_failregex": {
                ("%s: %s" % (i, regexes[i][:70]) if i is not None else "?"): c
                for i, c in sorted(per_regex.items(), key=lambda kv: -kv[1])},
        },
    }


def fail2ban_version():
    try:
        from fail2ban.version import version
        return version
    except Exception:  # pragma: no cover
        return "?"


def print_summary(res):
    st, p = res["stats"], res["params"]
    print("fail2ban %s replay in log time: sshd[mode=%s] maxretry=%d findtime=%ds "
          "bantime=%ds usedns=%s%s" % (p["fail2ban_version"], p["mode"], p["maxretry"],
                                       p["findtime"], p["bantime"], p["usedns"],
                                       " firewall" if p["firewall"] else ""))
    print("lines %d, failures %d from %d IPs, banned %d IPs (%d ban events, %d extensions), "
          "DNS lookups refused %d" % (st["lines"], st["failures"], st["failure_ips"],
                                      st["banned_ips"], st["ban_events"],
                                      st["ban_extensions"], st["dns_lookups_refused"]))
    print("\nfailures by failregex:")
    for k, v in st["failures_by_failregex"].items():
        print("  %6d  %s" % (v, k))
    bans = {b["ip"]: b for b in res["banned"]}
    print("\n%-40s %8s %5s  %s" % ("ip", "failures", "bans", "first_ban_at"))
    for ip, n in res["failures_per_ip"].items():
        b = bans.get(ip)
        print("%-40s %8d %5s  %s" % (ip, n, b["bans"] if b else "-", b["first_ban_at"] if b else ""))


def arg_parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("--year", type=int, default=2024, help="year for syslog dates (default 2024)")
    ap.add_argument("--maxretry", type=int, default=5)
    ap.add_argument("--findtime", type=int, default=600, help="seconds (default 600)")
    ap.add_argument("--bantime", type=int, default=600, help="seconds (default 600)")
    ap.add_argument("--mode", default="normal", help="sshd filter mode: normal|ddos|extra|aggressive")
    ap.add_argument("--usedns", default="no", choices=("no", "warn", "yes", "raw"))
    ap.add_argument("--config", default="/etc/fail2ban", help="fail2ban config dir")
    ap.add_argument("--firewall", action="store_true",
                    help="drop failures from an IP while it is banned (as a firewall would)")
    ap.add_argument("--summary", action="store_true", help="print a human table instead of JSON")
    ap.add_argument("--verbose", action="store_true", help="let fail2ban log to stderr")
    return ap


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    args = arg_parser().parse_args()
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    res = replay(args)
    if args.summary:
        print_summary(res)
    else:
        json.dump(res, sys.stdout, indent=1)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
