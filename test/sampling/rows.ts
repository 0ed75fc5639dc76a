// Small helpers the sampling tests share: rows written by hand, seeded normal rows, and a
// tolerance comparison.
import assert from "node:assert/strict";
import { createRandom } from "../../lib/random";

export const f32 = (values: number[]) => new Float32Array(values);
export const NEG = -Infinity;

export function assertClose(actual: ArrayLike<number>, expected: number[], tolerance: number) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

/** `n` seeded standard-normal logits times `scale`. */
export function normalRow(seed: number, n: number, scale: number): Float32Array {
  const random = createRandom(seed);
  const row = new Float32Array(n);
  for (let i = 0; i < n; i++) row[i] = random.normal() * scale;
  return row;
}
