import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { luhn } from "../dsl/index.js";
import { maskCounts, maskText, maskValue } from "./mask.js";

describe("masking", () => {
  test("card numbers: Luhn-valid 13–19 digits keep their last four; others are left", () => {
    const c = maskCounts();
    expect(maskText("card 4111 1111 1111 1111 ok", c)).toBe("card **** **** **** 1111 ok");
    expect(maskText("4111-1111-1111-1111")).toBe("****-****-****-1111");
    expect(maskText("pan=378282246310005")).toBe("pan=***********0005");
    expect(maskText("4111 1111 1111 1112")).toBe("4111 1111 1111 1112"); // fails Luhn
    expect(maskText("order 20240506123456789012")).toBe("order 20240506123456789012"); // 26 digits: not a card
    expect(c.card).toBe(1);
  });

  test("national identifiers", () => {
    const c = maskCounts();
    expect(maskText("ssn 123-45-6789", c)).toBe("ssn ***-**-6789");
    expect(maskText("000-12-3456 and 666-12-3456")).toBe("000-12-3456 and 666-12-3456");
    expect(maskText("NI AB 12 34 56 C", c)).toBe("NI *********");
    expect(c.national_id).toBe(2);
  });

  test("secrets: tokens keep four characters, assignments keep the key, private keys go whole", () => {
    expect(maskText("key AKIAIOSFODNN7EXAMPLE")).toBe("key AKIA…[masked]");
    expect(maskText(`t=ghp_${"a".repeat(36)}`)).toBe("t=ghp_…[masked]");
    expect(maskText("db.password = hunter2hunter2 next")).toBe("db.password = [masked] next");
    expect(maskText('{"api_key":"abcd1234efgh"}')).toBe('{"api_key":"[masked]"}');
    expect(maskText("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- tail")).toBe("-----BEGIN PRIVATE KEY----- [masked] tail");
    expect(maskText("password reset sent")).toBe("password reset sent");
  });

  test("maskValue walks objects and arrays, masking values under secret keys whole", () => {
    const c = maskCounts();
    const v = { user: "alice", password: "pw", nested: { "http.request.headers.authorization": "Bearer x", list: ["4111111111111111", 5] } };
    expect(maskValue(v, c)).toEqual({ user: "alice", password: "[masked]", nested: { "http.request.headers.authorization": "[masked]", list: ["************1111", 5] } });
    expect(v.password).toBe("pw"); // a copy
    expect(c).toEqual({ card: 1, national_id: 0, secret: 2 });
  });

  test("property: no Luhn-valid 13–19 digit run survives, and masking is idempotent", () => {
    const card = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 12, maxLength: 18 }).map((d) => {
      // Append the Luhn check digit.
      for (let check = 0; check <= 9; check++) if (luhn([...d, check].join(""))) return [...d, check].join("");
      return d.join("");
    });
    const text = fc.array(fc.oneof(card, fc.string({ maxLength: 8 }), fc.constantFrom(" ", "-", "x", "password=secret123")), { maxLength: 8 }).map((xs) => xs.join(" "));
    fc.assert(
      fc.property(text, (t) => {
        const m = maskText(t);
        for (const run of m.match(/\d(?:[ -]?\d){12,18}/g) ?? []) expect(luhn(run) && !/\*/.test(run)).toBe(false);
        expect(maskText(m)).toBe(m);
      }),
      { numRuns: 300 },
    );
  });
});
