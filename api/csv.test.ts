import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { csvField, csvRow } from "./csv.js";

/** A reference RFC 4180 reader for one row. */
function parseRow(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else field += line[i++] ?? "";
      }
    } else while (i < line.length && line[i] !== ",") field += line[i++];
    out.push(field);
    if (line[i] !== ",") return out;
    i++;
  }
}

describe("CSV", () => {
  it("quotes commas, quotes and line breaks, and defuses formulas", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvField("=HYPERLINK(\"x\")")).toBe("\"'=HYPERLINK(\"\"x\"\")\"");
    expect(csvField("-1+1")).toBe("'-1+1");
    expect(csvField(-1)).toBe("-1");
    expect(csvField(null)).toBe("");
    expect(csvRow(["a", 1, null])).toBe("a,1,\r\n");
  });

  test.prop([fc.array(fc.string(), { minLength: 1, maxLength: 6 })])("a row reads back as its fields (formula cells with their ' prefix)", (fields) => {
    const line = csvRow(fields).slice(0, -2);
    const want = fields.map((f) => (/^[=+\-@\t\r]/.test(f) ? `'${f}` : f));
    expect(parseRow(line)).toEqual(want);
  });
});
