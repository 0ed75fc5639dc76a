import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { floatsToHalves } from "../lib/onnx/graph-builder";
import { quantizeColumns, transpose } from "../lib/onnx/quantize";
import { floatToHalf } from "../lib/safetensors";

describe("quantizeColumns", () => {
  test("scales each column by its largest magnitude / 127 and rounds, by hand", () => {
    // Columns: [1, 0.25] → scale 1/127, q = [127, 31.75 → 32]; [-1.5, 4] → scale 4/127, q = [-47.625 → -48, 127].
    const { values, scales } = quantizeColumns(Float32Array.of(1, -1.5, 0.25, 4), 2, 2);
    assert.deepEqual([...values], [127, -48, 32, 127]);
    assert.deepEqual([...scales], [Math.fround(1 / 127), Math.fround(4 / 127)]);
  });

  test("a column of zeros gets scale 1 and zeros; values dequantize within half a step", () => {
    const matrix = Float32Array.of(0, 0.3, 0, -0.7, 0, 0.01);
    const { values, scales } = quantizeColumns(matrix, 3, 2);
    assert.equal(scales[0], 1);
    assert.deepEqual([values[0], values[2], values[4]], [0, 0, 0]);
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(values[r * 2 + 1] * scales[1] - matrix[r * 2 + 1]) <= scales[1] / 2 + 1e-9);
  });

  test("a matrix of the wrong size is refused", () => {
    assert.throws(() => quantizeColumns(new Float32Array(5), 2, 3), /Expected a 2 × 3 matrix \(6 values\), got 5 values/);
  });
});

test("transpose swaps rows and columns, also across its 32 × 32 blocks", () => {
  assert.deepEqual([...transpose(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3)], [1, 4, 2, 5, 3, 6]);
  const rows = 37;
  const cols = 70;
  const matrix = Float32Array.from({ length: rows * cols }, (_, i) => i);
  const t = transpose(matrix, rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) assert.equal(t[c * rows + r], r * cols + c);
});

test("floatsToHalves agrees with the one-value floatToHalf, edge cases included", () => {
  const edges = [0, -0, 1, -1, 0.1, 65504, 65519, 65520, 1e6, -1e6, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
  let x = 12345;
  const random = Array.from({ length: 2000 }, () => {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    return ((x >>> 8) / 2 ** 24 - 0.5) * 2 ** ((x & 31) - 12);
  });
  const values = Float32Array.from([...edges, ...random]);
  const halves = floatsToHalves(values);
  values.forEach((v, i) => assert.equal(halves[i], floatToHalf(v), `value ${v}`));
  assert.equal(halves[7], 0x7c00, "65520 rounds up to infinity");
  assert.equal(halves[6], 0x7bff, "65519 rounds down to the largest half");
});
