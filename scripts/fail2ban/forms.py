#!/usr/bin/python3
"""Which sshd line forms does fail2ban's stock sshd filter count, and how often?

Runs small hand-written scenarios (each its own log, each connection its own
sshd[pid], addresses from the documentation ranges) through replay.py's
log-time replay of the real fail2ban classes, and prints, per line, how many
failures fail2ban counted and for which address.  This is the evidence behind
the per-form semantics Vigil compares itself against.

  python3 scripts/fail2ban/forms.py [--usedns no|warn|raw] [--mode normal] [--json]

Exit status 1 if a scenario's observed counts differ from the expectation
written next to it (expectations are for usedns=no, mode=normal).
"""

import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402  (also sets up the no-DNS guard and log-time clock)

P = "Dec 10 07:13:{:02d} h sshd[{}]: "
PAM = ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
       "ruser= rhost={}{}")

# name -> list of (expected failures on this line, pid, message)
SCENARIOS = {
    "invalid user, then Failed password for invalid user (same pid)": [
        (1, 100, "Invalid user webmaster from 198.51.100.7"),
        (0, 100, "input_userauth_request: invalid user webmaster [preauth]"),
        (0, 100, "pam_unix(sshd:auth): check pass; user unknown"),
        (0, 100, PAM.format("198.51.100.7 ", "")),
        (1, 100, "Failed password for invalid user webmaster from 198.51.100.7 port 38926 ssh2"),
        (0, 100, "Connection closed by 198.51.100.7 [preauth]"),
    ],
    "pam authentication failure (rhost=IP), then Failed password": [
        (0, 101, PAM.format("198.51.100.8", "  user=root")),
        (1, 101, "Failed password for root from 198.51.100.8 port 42393 ssh2"),
    ],
    "pam authentication failure alone, then Bye Bye": [
        (0, 102, PAM.format("198.51.100.9", "  user=root")),
        (0, 102, "Received disconnect from 198.51.100.9: 11: Bye Bye [preauth]"),
    ],
    "pam failures for two different users in one connection": [
        (0, 103, PAM.format("198.51.100.10", "  user=root")),
        (1, 103, PAM.format("198.51.100.10", "  user=admin")),
        (1, 103, PAM.format("198.51.100.10", "  user=admin")),
    ],
    "message repeated N times: [ Failed password ... ]": [
        (1, 104, "Failed password for root from 198.51.100.11 port 42393 ssh2"),
        (0, 104, "message repeated 5 times: [ Failed password for root from 198.51.100.11 port 42393 ssh2]"),
        (0, 105, "message repeated 5 times: [ Failed password for root from 198.51.100.12 port 4 ssh2]"),
    ],
    "maximum authentication attempts exceeded": [
        (1, 106, "error: maximum authentication attempts exceeded for root from 198.51.100.13 port 4444 ssh2 [preauth]"),
        (1, 107, "error: maximum authentication attempts exceeded for invalid user oracle from 198.51.100.13 port 4445 ssh2 [preauth]"),
    ],
    "Too many authentication failures after a Failed password (same pid)": [
        (1, 108, "Failed password for root from 198.51.100.14 port 42393 ssh2"),
        (1, 108, "Disconnecting: Too many authentication failures for root [preauth]"),
    ],
    "Too many authentication failures with no earlier address in the pid": [
        (0, 109, "Disconnecting: Too many authentication failures [preauth]"),
    ],
    "Too many authentication failures after a pam (no-fail) line": [
        (0, 110, PAM.format("198.51.100.15", "  user=root")),
        (1, 110, "Disconnecting: Too many authentication failures for root [preauth]"),
    ],
    "Too many (pending), then Connection closed with the address": [
        (0, 111, "Disconnecting: Too many authentication failures [preauth]"),
        (1, 111, "Connection closed by 198.51.100.16 port 5555 [preauth]"),
    ],
    "Too many authentication failures in a different pid": [
        (1, 112, "Failed password for root from 198.51.100.17 port 42393 ssh2"),
        (0, 113, "Disconnecting: Too many authentication failures for root [preauth]"),
    ],
    "Too many after a pam line whose rhost is a host name": [
        (0, 114, PAM.format("host-198-51-100-18.example.net", "  user=root")),
        (0, 114, "Disconnecting: Too many authentication failures for root [preauth]"),
    ],
    "Received disconnect 11: Bye Bye": [
        (0, 115, "Received disconnect from 198.51.100.19: 11: Bye Bye [preauth]"),
        (0, 116, "Received disconnect from 198.51.100.19 port 5000:11: Bye Bye [preauth]"),
        (1, 117, "Failed password for root from 198.51.100.20 port 1 ssh2"),
        (0, 117, "Received disconnect from 198.51.100.20: 11: Bye Bye [preauth]"),
    ],
    "Received disconnect 3: ... Auth fail / 14: No more authentication methods": [
        (1, 118, "error: Received disconnect from 198.51.100.28: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]"),
        (0, 119, "error: Received disconnect from 198.51.100.28: 14: No more user authentication methods available. [preauth]"),
    ],
    "Connection closed / reset [preauth]": [
        (0, 120, "Connection closed by 198.51.100.21 [preauth]"),
        (0, 121, "Connection closed by 198.51.100.21 port 5555 [preauth]"),
        (0, 122, "Connection closed by authenticating user root 198.51.100.21 port 5556 [preauth]"),
        (0, 123, "Connection reset by 198.51.100.21 port 5557 [preauth]"),
    ],
    "POSSIBLE BREAK-IN ATTEMPT": [
        (0, 124, "reverse mapping checking getaddrinfo for ns.example.com [198.51.100.22] failed - POSSIBLE BREAK-IN ATTEMPT!"),
        (0, 125, "Address 198.51.100.22 maps to x.example.com, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!"),
    ],
    "Did not receive identification string": [
        (0, 126, "Did not receive identification string from 198.51.100.23"),
        (0, 127, "Did not receive identification string from 198.51.100.23 port 6000"),
    ],
    "legacy RedHat sshd(pam_unix)[PID] lines": [
        (0, 128, "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=198.51.100.24 "),
        (0, 129, "check pass; user unknown"),
        (0, 129, "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=198.51.100.24  user=root"),
    ],
    "pam line with host-name rhost, then Failed password with the IP": [
        (0, 130, PAM.format("ec2-198-51-100-25.example.com ", "")),
        (1, 130, "Failed password for invalid user test9 from 198.51.100.25 port 36060 ssh2"),
    ],
    "Failed publickey / Failed none": [
        (0, 131, "Failed publickey for root from 198.51.100.26 port 1 ssh2: RSA SHA256:abc"),
        (1, 132, "Failed none for invalid user admin from 198.51.100.26 port 2 ssh2"),
        (1, 133, "Failed publickey for invalid user bob from 198.51.100.26 port 3 ssh2: RSA SHA256:abc"),
    ],
    "Failed password twice, then Accepted (same pid)": [
        (1, 134, "Failed password for alice from 198.51.100.27 port 1 ssh2"),
        (1, 134, "Failed password for alice from 198.51.100.27 port 1 ssh2"),
        (0, 134, "Accepted password for alice from 198.51.100.27 port 1 ssh2"),
    ],
    "IPv6 and 'Invalid user ... port P'": [
        (1, 135, "Failed password for root from 2001:db8::5 port 1 ssh2"),
        (1, 136, "Invalid user x from 2001:db8::5 port 2"),
        (1, 137, "Invalid user x from 198.51.100.29 port 2"),
    ],
    "PAM N more authentication failures / ignoring max retries": [
        (0, 138, "PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.30  user=root"),
        (0, 138, "PAM service(sshd) ignoring max retries; 6 > 3"),
    ],
}


def render(name, pid, msg, sec):
    if name.startswith("legacy RedHat"):
        return "Jun 14 15:16:{:02d} combo sshd(pam_unix)[{}]: {}".format(sec, pid, msg)
    return P.format(sec, pid) + msg


def main():
    ap = replay.arg_parser()
    ap.add_argument("--json", action="store_true")
    argv = ["-"] + sys.argv[1:]  # the log positional is filled per scenario
    args = ap.parse_args(argv)
    strict = args.usedns == "no" and args.mode == "normal"
    report, mismatches = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows in SCENARIOS.items():
            path = os.path.join(tmp, "scenario.log")
            with open(path, "w") as fh:
                for i, (_, pid, msg) in enumerate(rows):
                    fh.write(render(name, pid, msg, i) + "\n")
            args.log = path
            res = replay.replay(args)
            per_line = {}
            for f in res["failures"]:
                per_line.setdefault(f["line"], []).append(f["ip"])
            lines = []
            for i, (want, pid, msg) in enumerate(rows, 1):
                got = per_line.get(i, [])
                ok = len(got) == want
                mismatches += (not ok) and strict
                lines.append({"line": i, "expected": want, "failures": len(got), "ips": got,
                              "ok": ok, "text": render(name, pid, msg, i - 1)})
            report.append({"scenario": name, "dns_lookups_refused": res["stats"]["dns_lookups_refused"],
                           "lines": lines})
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
    else:
        for sc in report:
            dns = sc["dns_lookups_refused"]
            print("== %s%s" % (sc["scenario"], " (DNS lookups refused: %d)" % dns if dns else ""))
            for ln in sc["lines"]:
                flag = "" if ln["ok"] or not strict else "   <-- expected %d" % ln["expected"]
                print("  %d %-15s | %s%s" % (ln["failures"], ",".join(ln["ips"]) or "-",
                                             ln["text"][16:130], flag))
        if strict:
            print("\n%s" % ("all scenarios as expected" if not mismatches
                            else "%d line(s) differ from expectation" % mismatches))
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
