// Weight transforms applied while a checkpoint is written as ONNX: transposing a matrix, and
// symmetric 8-bit quantization with one scale per output column (w ≈ scale[j] · q[i][j],
// q in [-127, 127], zero point 0), the layout onnxruntime's DynamicQuantizeMatMul takes.
// Activations are quantized at run time by that operator, so nothing here depends on data.
// Left out: calibration, per-block scales, 4-bit formats.

/** An 8-bit matrix [rows, cols] and its per-column scales [cols]. */
export interface QuantizedMatrix {
  values: Int8Array;
  scales: Float32Array;
}

/** The transpose of a row-major [rows, cols] matrix, as a new [cols, rows] array. */
export function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(matrix.length);
  // Blocks of 32 × 32 keep both the reads and the writes within the cache.
  const block = 32;
  for (let r0 = 0; r0 < rows; r0 += block) {
    for (let c0 = 0; c0 < cols; c0 += block) {
      const rEnd = Math.min(r0 + block, rows);
      const cEnd = Math.min(c0 + block, cols);
      for (let r = r0; r < rEnd; r++) {
        for (let c = c0; c < cEnd; c++) out[c * rows + r] = matrix[r * cols + c];
      }
    }
  }
  return out;
}

/**
 * Quantizes a row-major [rows, cols] matrix column by column: scale[j] = max|w[·][j]| / 127 and
 * q = round(w / scale). A column of zeros gets scale 1 (and q = 0), so dequantizing never divides by 0.
 */
export function quantizeColumns(matrix: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (matrix.length !== rows * cols) {
    throw new RangeError(`Expected a ${rows} × ${cols} matrix (${rows * cols} values), got ${matrix.length} values`);
  }
  const maxAbs = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(matrix[row + c]);
      if (a > maxAbs[c]) maxAbs[c] = a;
    }
  }
  const scales = new Float32Array(cols);
  const inverse = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    scales[c] = maxAbs[c] > 0 ? maxAbs[c] / 127 : 1;
    inverse[c] = 1 / scales[c];
  }
  const values = new Int8Array(matrix.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) {
      const q = Math.round(matrix[row + c] * inverse[c]);
      values[row + c] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  }
  return { values, scales };
}
