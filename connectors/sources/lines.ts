import type { Readable } from "node:stream";

/**
 * Splits a byte stream into lines and hands each to `onLine` synchronously, chunk by chunk
 * (no promise per line). Lines are numbered from 1; `\r\n` and a last line without a
 * terminator are handled. Returns the number of lines read.
 */
export async function forEachLine(stream: Readable, onLine: (line: string, lineNo: number) => void): Promise<number> {
  stream.setEncoding("utf8");
  let carry = "";
  let lineNo = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    let nl = chunk.indexOf("\n");
    if (nl === -1) {
      carry += chunk;
      continue;
    }
    if (carry !== "") {
      onLine(stripCr(carry + chunk.slice(0, nl)), ++lineNo);
      carry = "";
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    while (nl !== -1) {
      onLine(stripCr(chunk.slice(start, nl)), ++lineNo);
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    carry = chunk.slice(start);
  }
  if (carry !== "") onLine(stripCr(carry), ++lineNo);
  return lineNo;
}

function stripCr(s: string): string {
  return s.length > 0 && s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
}
