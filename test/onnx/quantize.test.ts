import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { quantizeColumns, transpose } from "../../lib/onnx/quantize";

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
