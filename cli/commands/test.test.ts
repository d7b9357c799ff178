import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { main } from "../main.js";
import { captureIo } from "../../test/support/capture-io.js";

const RULE = `rule lockout {
  severity medium
  tags attack.credential_access, attack.t1110
  when event.category == "authentication" and event.outcome == "failure"
  count >= 5 within 5m by user.name
  suppress 5m by user.name
}
`;

const CASES = `rules:
  lockout:
    properties: { count: 5, within: 5m }
    cases:
      - name: five failures
        events:
          - { "$repeat": 5, "$every": 10s, event.category: authentication, event.outcome: failure, user.name: "u" }
        expect:
          - { count: 5, keys: { user.name: u } }
      - name: four failures
        events:
          - { "$repeat": 4, event.category: authentication, event.outcome: failure, user.name: u }
        expect: none
`;

describe("vigil test", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vigil-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("the shipped packs pass: every rule has a positive and a negative example", async () => {
    const io = captureIo();
    const code = await main(["test", "--strict", "rules"], io);
    expect(io.text()).toContain("vigil test: all passed");
    expect(code).toBe(0);
    // Every rule is reported and passes, the anomaly rules included (the engine runs them).
    expect(io.outLines.filter((l) => /^ok /.test(l)).length).toBe(36);
    expect(io.outLines).toContain("ok   login_unusual_hour (3 cases)");
    expect(io.outLines).toContain("ok   egress_unusual_volume (4 cases)");
    expect(io.text()).toMatch(/total\s+36\s+36\s+36\s+0/);
    expect(io.text()).toMatch(/MITRE ATT&CK techniques: \d+ of \d+ tagged/);
  });

  test("the shipped packs pass their property tests", async () => {
    const io = captureIo();
    const code = await main(["test", "--properties", "--runs", "15", "rules"], io);
    expect(io.text()).toContain("vigil test: all passed");
    expect(code).toBe(0);
    const props = io.outLines.slice(io.outLines.indexOf("properties"));
    expect(props.filter((l) => l.startsWith("ok ")).length).toBe(36);
    // Anomaly rules are checked against their invariants, not a reference model of the forest.
    expect(props.find((l) => l.startsWith("ok   login_unusual_hour:"))).toMatch(/an anomaly rule: same stream, same alerts and scores; nothing fires before a key's train period/);
    // The streams are not vacuous: most rules' generated streams raise alerts.
    const firing = props.map((l) => /(\d+) of (\d+) streams raised alerts/.exec(l)).filter((m) => m !== null && Number(m[1]) > 0);
    expect(firing.length).toBe(36);
  });

  test("the policy file drives the thresholds", async () => {
    writeFileSync(join(dir, "policy.yaml"), "authentication:\n  lockout:\n    max_failed_attempts: 3\n");
    const io = captureIo();
    const code = await main(["test", "--policy", join(dir, "policy.yaml"), "rules/policy.vigil", "rules/auth.vigil"], io);
    expect(code).toBe(1);
    // With 3 attempts the 4-failure negative example now alerts, and the message says so.
    expect(io.text()).toMatch(/FAIL account_lockout\n\s+case "five failures lock the account for 5 minutes":\n\s+alert #1 count: expected 5, got 3\n\s+case "four failures":\n\s+expected 0 alerts, got 1/);
  });

  test("a failing example exits 1 with a readable diff", async () => {
    writeFileSync(join(dir, "p.vigil"), RULE);
    writeFileSync(join(dir, "p.tests.yaml"), CASES.replace("count: 5, keys: { user.name: u }", "count: 6, keys: { user.name: v }"));
    const io = captureIo();
    const code = await main(["test", dir], io);
    expect(code).toBe(1);
    expect(io.text()).toContain('FAIL lockout\n  case "five failures":\n    alert #1 count: expected 6, got 5\n    alert #1 keys.user.name: expected "v", got "u"');
    expect(io.text()).toContain("vigil test: 1 failure");
  });

  test("events run in the order written: a case can test an event arriving out of order", async () => {
    writeFileSync(join(dir, "s.vigil"), "rule s2 {\n  severity low\n  sequence by k within 10s {\n    a: v == 1\n    b: v == 2\n  }\n}\n");
    // Step b arrives before step a, though dated after it: in arrival order there is no match
    // (sorted by time there would be one).
    const cases = (expect: string) =>
      `start: 2024-05-06T10:00:00Z\nrules:\n  s2:\n    cases:\n      - name: b arrives first\n        events:\n          - { "@timestamp": "+10s", k: x, v: 2 }\n          - { "@timestamp": "+5s", k: x, v: 1 }\n        expect: ${expect}\n`;
    writeFileSync(join(dir, "s.tests.yaml"), cases("none"));
    const io = captureIo();
    expect(await main(["test", dir], io), io.text()).toBe(0);
    writeFileSync(join(dir, "s.tests.yaml"), cases("[ { count: 2 } ]"));
    const io2 = captureIo();
    expect(await main(["test", dir], io2)).toBe(1);
    expect(io2.text()).toContain("expected 1 alert, got 0");
  });

  test("--properties: a sequence whose step reads an earlier step's field is tested from its positive example, not skipped", async () => {
    writeFileSync(
      join(dir, "q.vigil"),
      'rule seqb {\n  severity high\n  sequence by source.ip within 10m {\n    f: event.outcome == "failure" repeat >= 3\n    s: event.outcome == "success" and user.name == f.user.name\n  }\n}\n',
    );
    writeFileSync(
      join(dir, "q.tests.yaml"),
      'start: 2024-05-06T10:00:00Z\nrules:\n  seqb:\n    defaults: { source.ip: 203.0.113.7, user.name: alice }\n    cases:\n      - name: three failures then a success\n        events:\n          - { "$repeat": 3, event.outcome: failure }\n          - { event.outcome: success }\n        expect: [ { count: 4 } ]\n      - name: a success for another user\n        events:\n          - { "$repeat": 3, event.outcome: failure }\n          - { event.outcome: success, user.name: bob }\n        expect: none\n',
    );
    const io = captureIo();
    const code = await main(["test", "--properties", "--strict", dir], io);
    expect(io.text()).not.toContain("SKIP");
    expect(code, io.text()).toBe(0);
  });

  test("a missing alert is shown as expected/got", async () => {
    writeFileSync(join(dir, "p.vigil"), RULE);
    writeFileSync(join(dir, "p.tests.yaml"), CASES.replace('"$repeat": 5, "$every": 10s', '"$repeat": 5, "$every": 2m'));
    const io = captureIo();
    expect(await main(["test", dir], io)).toBe(1);
    expect(io.text()).toContain('case "five failures":\n    expected 1 alert, got 0');
  });

  test("a test file naming an unknown rule, or a broken file, fails", async () => {
    writeFileSync(join(dir, "p.vigil"), RULE);
    writeFileSync(join(dir, "p.tests.yaml"), CASES + "  no_such_rule:\n    cases: []\n");
    writeFileSync(join(dir, "q.tests.yaml"), "rules:\n  lockout:\n    cases:\n      - name: no expect\n        events: []\n");
    const io = captureIo();
    expect(await main(["test", dir], io)).toBe(1);
    expect(io.text()).toContain("FAIL no_such_rule: tests name a rule that is not in the pack");
    expect(io.text()).toContain(`q.tests.yaml:4:9: lockout: case "no expect": missing 'expect'`);
  });

  test("--strict requires a positive and a negative example", async () => {
    writeFileSync(join(dir, "p.vigil"), RULE);
    writeFileSync(join(dir, "p.tests.yaml"), CASES.slice(0, CASES.indexOf("      - name: four failures")));
    const io = captureIo();
    expect(await main(["test", dir], io)).toBe(0);
    const strict = captureIo();
    expect(await main(["test", "--strict", dir], strict)).toBe(1);
    expect(strict.text()).toContain("FAIL lockout: needs at least one positive and one negative example (has 1 positive, 0 negative)");
  });

  test("a deliberately wrong rule (fires one event early) is caught by the property tests, with a shrunk counterexample", async () => {
    // The analyst's intent (properties.count 5) says the fifth failure locks; the rule fires on the fourth.
    writeFileSync(join(dir, "p.vigil"), RULE.replace("count >= 5", "count >= 4"));
    writeFileSync(join(dir, "p.tests.yaml"), CASES.replace(/ {6}- name: four failures[\s\S]*/, ""));
    const io = captureIo();
    const code = await main(["test", "--properties", "--runs", "50", dir], io);
    expect(code).toBe(1);
    const text = io.text();
    expect(text).toContain("FAIL lockout: a count rule fires exactly when 5 matching events fall within 5m for one key, never with fewer, within suppression");
    // Shrunk to a few events of one key: the engine alerts on the fourth matching event, where the
    // reference model (five within 5m) does not.
    const props = text.slice(text.indexOf("\nproperties\n"));
    expect(props).toMatch(/counterexample \(shrunk \d+ times; seed 42\):\n( {4}#\d +\+[\d.]+s +match +user\.name=k0\n){4,6} {4}expected \(reference model\): [^\n]*\n {4}got \(engine\): \{"user\.name":"k0"\} count 4 at/);
  });

  test("the same rule with the right threshold passes its property tests", async () => {
    writeFileSync(join(dir, "p.vigil"), RULE);
    writeFileSync(join(dir, "p.tests.yaml"), CASES);
    const io = captureIo();
    expect(await main(["test", "--properties", "--runs", "50", dir], io)).toBe(0);
    expect(io.text()).toMatch(/ok {3}lockout: a count rule fires exactly when 5 matching events fall within 5m/);
  });

  test("a sequence whose intended span is shorter than the rule's is caught", async () => {
    writeFileSync(
      join(dir, "s.vigil"),
      `rule fail_then_ok {
  severity high
  sequence by user.name within 10m {
    fail: event.outcome == "failure"
    ok:   event.outcome == "success"
  }
}
`,
    );
    writeFileSync(
      join(dir, "s.tests.yaml"),
      `rules:
  fail_then_ok:
    properties: { within: 5m }
    cases:
      - name: fail then success
        events: [ { event.outcome: failure, user.name: a }, { event.outcome: success, user.name: a } ]
        expect: 1
`,
    );
    const io = captureIo();
    expect(await main(["test", "--properties", "--runs", "100", dir], io)).toBe(1);
    expect(io.text()).toContain("FAIL fail_then_ok: a sequence fires only on its steps in order within 5m");
    expect(io.text()).toMatch(/expected \(reference model\): no alert\n {4}got \(engine\): \{"user\.name":"k\d"\} count 2/);
  });

  test("a rule no event can match is a counted SKIP, and a failure under --strict, as is a rule without examples", async () => {
    writeFileSync(join(dir, "never.vigil"), 'rule never {\n  severity low\n  when event.outcome == "failure" and event.outcome == "success"\n  count >= 2 within 5m by user.name\n}\n');
    const io = captureIo();
    expect(await main(["test", "--properties", "--runs", "10", dir], io)).toBe(0);
    expect(io.outLines).toContain("---- never: no example tests");
    expect(io.outLines.some((l) => l.startsWith("SKIP never: "))).toBe(true);
    expect(io.text()).toMatch(/pack\s+rules\s+tested\s+positive\+negative\s+skipped\s+properties skipped\n\s+never\.vigil\s+1\s+0\s+0\s+0\s+1/);
    expect(io.text()).toContain("MITRE ATT&CK techniques: 0 of 0 tagged are covered by a passing positive example\n");
    const strict = captureIo();
    expect(await main(["test", "--strict", "--properties", "--runs", "10", dir], strict)).toBe(1);
    expect(strict.outLines).toContain("FAIL never: no example tests (--strict needs a positive and a negative example)");
    expect(strict.outLines.some((l) => l.startsWith("FAIL never: no property could be checked ("))).toBe(true);
    expect(strict.text()).toContain("vigil test: 2 failures");
  });

  test("broken tests files say where (file:line:col), their rule is a FAIL, and misspellings get suggestions", async () => {
    writeFileSync(join(dir, "lockout.vigil"), RULE);
    const tests = [
      "rules:",
      "  lockout:",
      "    cases:",
      "      - name: five failures",
      "        events:",
      '          - { "$repeat": 5, "$every": 10s, event.category: authentication, event.outcome: failure, user.name: "u" }',
      "        expect:",
      "          - { cuont: 5 }",
      "      - name: no expect",
      "        events: []",
      "  lockuot:",
      "    cases: []",
    ].join("\n");
    writeFileSync(join(dir, "lockout.tests.yaml"), tests + "\n");
    const io = captureIo();
    expect(await main(["test", dir], io)).toBe(1);
    const file = join(dir, "lockout.tests.yaml");
    expect(io.errLines).toContain(`${file}:9:9: lockout: case "no expect": missing 'expect' (none, a number, or a list of alerts)`);
    expect(io.outLines).toContain("FAIL lockout: its tests could not all be read (see the errors above); 1 case ran");
    expect(io.outLines).toContain("    alert #1 cuont: an alert has no field 'cuont' (did you mean count?)");
    expect(io.outLines).toContain("FAIL lockuot: tests name a rule that is not in the pack (did you mean lockout?)");
  });
});
