// IEEE 754 binary16 (half precision) to and from float32, for float16 checkpoints and fp16 ONNX
// weights: the one converter every part of gpt2-lab uses. Encoding rounds to nearest, ties to even,
// as numpy's and PyTorch's float32 → float16 casts do; it works on the bit patterns of a whole array
// at once rather than one call per value.

/** float32 values to binary16 bits (overflow gives ±Infinity, NaN stays NaN). */
export function floatsToHalves(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    const e = exponent - 112; // rebias 127 → 15
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
    } else if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      // Subnormal half (or zero): shift the implicit-one mantissa right, round to nearest even.
      if (e < -10) {
        out[i] = sign;
      } else {
        const m = mantissa | 0x800000;
        const shift = 14 - e;
        let half = m >>> shift;
        const rest = m & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (rest > halfway || (rest === halfway && half & 1)) half++;
        out[i] = sign | half;
      }
    } else {
      let half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
      out[i] = sign | half;
    }
  }
  return out;
}

/** binary16 bits to float32 values (every half is exactly representable in float32). */
export function halvesToFloats(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
