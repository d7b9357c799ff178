/**
 * nftables: the generated scripts, and — where the sandbox lets us create a network
 * namespace — the real `nft` applying them inside one.
 */
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, test } from "vitest";
import type { ResponseAction } from "../../engine/response.js";
import { uniqueName } from "../../test/support/services.js";
import { NftablesResponder, nftBlockScript, nftSetupScript, nftUnblockScript, runNft } from "./nftables.js";

describe("generated commands", () => {
  test("a block is add, delete, add with the timeout (one transaction), in the family's set", () => {
    expect(nftBlockScript("203.0.113.7", 3600)).toBe(
      "add element inet vigil blocked { 203.0.113.7 }\ndelete element inet vigil blocked { 203.0.113.7 }\nadd element inet vigil blocked { 203.0.113.7 timeout 3600s }\n",
    );
    expect(nftBlockScript("2001:DB8::0:1", 0.2, "fw")).toContain(
      "add element inet fw blocked6 { 2001:db8::1 timeout 1s }",
    );
    expect(nftUnblockScript("203.0.113.7")).toBe(
      "add element inet vigil blocked { 203.0.113.7 }\ndelete element inet vigil blocked { 203.0.113.7 }\n",
    );
    expect(nftSetupScript()).toContain("add set inet vigil blocked { type ipv4_addr; flags timeout; }");
    expect(nftSetupScript()).toContain("add rule inet vigil input ip saddr @blocked drop");
  });

  test("nothing but a parsed address or a plain name reaches a script", () => {
    expect(() => nftBlockScript("203.0.113.7 }; flush ruleset; {", 60)).toThrow(/not an address/);
    expect(() => nftSetupScript("vigil; flush ruleset")).toThrow(/not an nftables name/);
  });

  test("the responder runs the setup once, then each action's script", async () => {
    const scripts: string[] = [];
    const r = new NftablesResponder({ run: (s) => (scripts.push(s), Promise.resolve()) });
    const now = 1_000_000;
    const a: ResponseAction = {
      id: "x",
      alert_id: "a",
      incident_id: null,
      action: "block_ip",
      args: { ip: "203.0.113.7" },
      mode: "enforce",
      until: now + 3_600_000,
    };
    const signal = new AbortController().signal;
    await r.execute(a, { alert: undefined, signal, now });
    await r.reverse(a, { alert: undefined, signal, now });
    expect(scripts).toEqual([
      nftSetupScript(),
      nftBlockScript("203.0.113.7", 3600),
      nftUnblockScript("203.0.113.7"),
    ]);
  });
});

function netnsAvailable(): string | undefined {
  try {
    const ns = uniqueName("vnft");
    execFileSync("ip", ["netns", "add", ns], { stdio: "pipe" });
    execFileSync("ip", ["netns", "exec", ns, "nft", "list", "ruleset"], { stdio: "pipe" });
    return ns;
  } catch {
    return undefined;
  }
}

const ns = netnsAvailable();
afterAll(() => {
  if (ns !== undefined) execFileSync("ip", ["netns", "del", ns], { stdio: "pipe" });
});

describe.skipIf(ns === undefined)(
  "real nft in a network namespace (skipped where `ip netns add` or nft is not permitted)",
  () => {
    const list = (set: string) =>
      JSON.parse(
        execFileSync("ip", [
          "netns",
          "exec",
          ns!,
          "nft",
          "-j",
          "list",
          "set",
          "inet",
          "vigil",
          set,
        ]).toString(),
      ) as { nftables: { set?: { elem?: { elem: { val: string; timeout: number } }[] } }[] };
    const elems = (set: string) =>
      list(set)
        .nftables.flatMap((x) => x.set?.elem ?? [])
        .map((e) => [e.elem.val, e.elem.timeout]);

    test("block with a timeout, refresh it, block IPv6, unblock; setup is idempotent", async () => {
      const r = new NftablesResponder({ netns: ns });
      const signal = new AbortController().signal;
      const now = Date.now();
      const mk = (ip: string, ms: number): ResponseAction => ({
        id: ip,
        alert_id: "a",
        incident_id: null,
        action: "block_ip",
        args: { ip },
        mode: "enforce",
        until: now + ms,
      });
      await r.execute(mk("203.0.113.7", 3_600_000), { alert: undefined, signal, now });
      expect(elems("blocked")).toEqual([["203.0.113.7", 3600]]);
      await r.execute(mk("203.0.113.7", 60_000), { alert: undefined, signal, now });
      expect(elems("blocked")).toEqual([["203.0.113.7", 60]]);
      await r.execute(mk("2001:db8::1", 120_000), { alert: undefined, signal, now });
      expect(elems("blocked6")).toEqual([["2001:db8::1", 120]]);
      await r.reverse(mk("203.0.113.7", 60_000), { alert: undefined, signal, now });
      expect(elems("blocked")).toEqual([]);
      await r.reverse(mk("203.0.113.7", 60_000), { alert: undefined, signal, now });
      await new NftablesResponder({ netns: ns }).execute(mk("192.0.2.1", 1000), {
        alert: undefined,
        signal,
        now,
      });
      const rules = execFileSync("ip", [
        "netns",
        "exec",
        ns!,
        "nft",
        "list",
        "chain",
        "inet",
        "vigil",
        "input",
      ]).toString();
      expect(rules.match(/drop/g)).toHaveLength(2);
    });

    test("nft's own error comes back as the failure reason", async () => {
      await expect(
        runNft("add element inet nosuchtable blocked { 203.0.113.7 }\n", new AbortController().signal, ns),
      ).rejects.toThrow(/nft exited with 1: .*No such file or directory/s);
    });
  },
);
