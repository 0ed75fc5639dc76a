// The float16 converter against hand-worked bit patterns and against its own decoder over every
// half: each float32 must encode to the nearest half, ties to the one with an even last bit.
import assert from "node:assert/strict";
import { test } from "node:test";
import { floatsToHalves, halvesToFloats } from "../../lib/weights/float16";

test("known values encode to their IEEE 754 binary16 bits, by hand", () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001], [1e-9, 0x0000],
    // Halfway between 1 and 1 + 2^-10: ties go to the even 1; between 1 + 2^-10 and 1 + 2^-9: up.
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  const halves = floatsToHalves(Float32Array.from(cases.map(([v]) => v)));
  cases.forEach(([v, bits], i) => assert.equal(halves[i], bits, `${v} → 0x${bits.toString(16)}`));
  const nan = floatsToHalves(Float32Array.of(NaN))[0];
  assert.ok((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0, "NaN stays NaN");
});

test("decoding gives the values the bit patterns stand for, by hand", () => {
  const values = halvesToFloats(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555));
  assert.deepEqual([...values].slice(0, 8), [1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0]);
  assert.equal(values[8], 0.333251953125); // 0x3555 = 2^-2 · (1 + 341/1024)
  assert.ok(Number.isNaN(halvesToFloats(Uint16Array.of(0x7e00))[0]));
});

test("every half survives a round trip, and points between two halves go to the nearer (ties to even)", () => {
  const all = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
  const decoded = halvesToFloats(all);
  const back = floatsToHalves(decoded);
  for (let h = 0; h < 0x10000; h++) if (!Number.isNaN(decoded[h])) assert.equal(back[h], h, `0x${h.toString(16)}`);
  // Midpoints (and points just beside them) of neighbouring positive finite halves.
  const lows: number[] = [];
  const points: number[] = [];
  for (let h = 0; h < 0x7bff; h++) {
    const mid = (decoded[h] + decoded[h + 1]) / 2;
    if (Math.fround(mid) !== mid) continue; // not representable in float32: nothing to test
    lows.push(h);
    points.push(mid);
  }
  const rounded = floatsToHalves(Float32Array.from(points));
  lows.forEach((h, i) => assert.equal(rounded[i], h % 2 === 0 ? h : h + 1, `midpoint above 0x${h.toString(16)}`));
});
