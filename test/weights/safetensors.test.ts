// The safetensors reader holds files to the format's own rule: every tensor's byte range lies inside
// the data section, and the ranges, in order, cover it exactly (no overlap, no hole, nothing after).
// Files are written byte by byte here, independently of writeSafetensors.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { SafetensorsFile } from "../../lib/weights/safetensors";
import { scratchFolder } from "../scratch";

const dir = scratchFolder("safetensors");

/** A file with this header and `dataBytes` bytes of data (float32 1.5 repeated). */
function file(name: string, header: Record<string, unknown>, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.alloc(dataBytes);
  for (let i = 0; i + 4 <= dataBytes; i += 4) data.writeFloatLE(1.5, i);
  const out = path.join(dir, `${name}.safetensors`);
  fs.writeFileSync(out, Buffer.concat([length, json, data]));
  return out;
}

const entry = (begin: number, end: number) => ({ dtype: "F32", shape: [(end - begin) / 4], data_offsets: [begin, end] });

test("two tensors that cover the data section exactly are read", () => {
  const f = SafetensorsFile.open(file("ok", { b: entry(8, 16), a: entry(0, 8), empty: { dtype: "F32", shape: [0], data_offsets: [16, 16] } }, 16));
  assert.deepEqual([...f.read("a")], [1.5, 1.5]);
  assert.deepEqual([...f.read("b")], [1.5, 1.5]);
  assert.equal(f.read("empty").length, 0);
  f.close();
});

const refused: [string, Record<string, unknown>, number, RegExp][] = [
  ["overlapping", { a: entry(0, 8), b: entry(4, 12) }, 12, /tensor `b` \(bytes 4–12\) overlaps tensor `a`, which ends at byte 8/],
  ["the same bytes twice", { a: entry(0, 8), b: entry(0, 8) }, 8, /tensor `b` \(bytes 0–8\) overlaps tensor `a`/],
  ["negative", { a: { dtype: "F32", shape: [64], data_offsets: [-256, 0] } }, 8, /tensor `a` has a malformed entry/],
  ["fractional", { a: { dtype: "F32", shape: [1], data_offsets: [0.5, 4.5] } }, 8, /tensor `a` has a malformed entry/],
  ["a hole", { a: entry(0, 4), b: entry(8, 12) }, 12, /no tensor covers bytes 4–8 of the data section, before tensor `b`/],
  ["a hole first", { a: entry(4, 8) }, 8, /no tensor covers bytes 0–4 of the data section, before tensor `a`/],
  ["bytes after the last tensor", { a: entry(0, 4) }, 8, /the tensors cover 4 of the data section's 8 bytes \(the last, `a`, ends at 4\)/],
  ["past the end", { a: entry(0, 16) }, 8, /tensor `a` has a malformed entry or points past the end of the file/],
];
for (const [what, header, dataBytes, message] of refused) {
  test(`data offsets: ${what} is refused, naming the file and the tensor`, () => {
    const f = file(what.replace(/\W+/g, "-"), header, dataBytes);
    assert.throws(() => SafetensorsFile.open(f), (error: Error) => error.name === "SafetensorsError" && message.test(error.message) && error.message.startsWith(f));
  });
}
