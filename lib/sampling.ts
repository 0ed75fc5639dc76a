// The logits warpers of Hugging Face transformers' `generate(do_sample=True)`, one pure function each, in
// HF's order: temperature → top-k → top-p → softmax (src/transformers/generation/logits_process.py:
// TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper; the order is in generation/utils.py
// `_get_logits_processor`). Rows are flat [vocab] float32 arrays; every function returns a new array.
// Left out: min_tokens_to_keep > 1 (beam search only), min-p, typical-p, epsilon/eta cutoffs, penalties.
import { assertRow, formatReceived, finiteMax, kthLargest, softmax } from "./distribution";

/** The sampling settings of one generation, with Hugging Face's `GenerationConfig` defaults. */
export interface SamplingOptions {
  /**
   * Divides the logits before anything else: below 1 sharpens the distribution, above 1 flattens it.
   * A finite number > 0; for deterministic output use greedy decoding instead of a tiny temperature.
   * @default 1
   */
  temperature?: number;
  /**
   * Keeps the `topK` largest logits (and every logit tied with the k-th); 0 turns the filter off.
   * A non-negative integer; values above the vocabulary size keep everything.
   * @default 50 (Hugging Face's default for `generate`, so `do_sample=True` alone already filters)
   */
  topK?: number;
  /**
   * Nucleus sampling: keeps the smallest set of most likely tokens whose probabilities add up to at
   * least `topP`. In (0, 1]; 1 turns the filter off.
   * @default 1
   */
  topP?: number;
}

/** Every stage of {@link processLogits}, in the order they are applied; each is a new [vocab] array. */
export interface SamplingStages {
  /** The logits as given (a float32 copy). */
  raw: Float32Array;
  /** After dividing by the temperature. */
  temperature: Float32Array;
  /** After top-k filtering (removed tokens are `-Infinity`). */
  topK: Float32Array;
  /** After top-p filtering (removed tokens are `-Infinity`). */
  topP: Float32Array;
  /** Softmax of the filtered logits: the distribution a token is drawn from. */
  probs: Float32Array;
}

const OPTION_NAMES = ["temperature", "topK", "topP"] as const;

/** Checks `temperature`: a finite number > 0. `TypeError` for a non-number, `RangeError` otherwise. */
export function validateTemperature(temperature: number): void {
  const expected = "Expected `temperature` to be a finite number > 0";
  if (typeof temperature !== "number") throw new TypeError(`${expected}, got ${formatReceived(temperature)}`);
  if (!(temperature > 0 && temperature < Infinity)) {
    throw new RangeError(
      `${expected}, got ${formatReceived(temperature)}; for deterministic output use greedy decoding (\`doSample: false\`)`,
    );
  }
}

/** Checks `topK`: a non-negative integer (0 = no filter). `TypeError` for a non-number, `RangeError` otherwise. */
export function validateTopK(topK: number): void {
  const expected = "Expected `topK` to be a non-negative integer";
  if (typeof topK !== "number") throw new TypeError(`${expected}, got ${formatReceived(topK)}`);
  if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`${expected}, got ${formatReceived(topK)}`);
}

/** Checks `topP`: a number in (0, 1] (1 = no filter). `TypeError` for a non-number, `RangeError` otherwise. */
export function validateTopP(topP: number): void {
  const expected = "Expected `topP` to be a number in (0, 1]";
  if (typeof topP !== "number") throw new TypeError(`${expected}, got ${formatReceived(topP)}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`${expected}, got ${formatReceived(topP)}`);
}

/**
 * Validates sampling options once, where they enter, and fills in the defaults
 * (`temperature` 1, `topK` 50, `topP` 1). Unknown keys are a `TypeError` that lists the known ones.
 */
export function validateSamplingOptions(options: SamplingOptions = {}): Required<SamplingOptions> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected sampling options to be an object, got ${formatReceived(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new TypeError(`Unknown sampling option \`${key}\`; expected one of ${OPTION_NAMES.map((n) => `\`${n}\``).join(", ")}`);
    }
  }
  const { temperature = 1, topK = 50, topP = 1 } = options;
  validateTemperature(temperature);
  validateTopK(topK);
  validateTopP(topP);
  return { temperature, topK, topP };
}

/** Divides every logit by `temperature` (as HF's TemperatureLogitsWarper); `-Infinity` stays `-Infinity`. */
export function applyTemperature(logits: ArrayLike<number>, temperature: number): Float32Array {
  validateTemperature(temperature);
  const out = float32Copy(logits, "logits");
  for (let i = 0; i < out.length; i++) out[i] = out[i] / temperature;
  return out;
}

/**
 * Top-k filter as HF's TopKLogitsWarper: every logit below the k-th largest becomes `-Infinity`, so all
 * logits tied with the k-th survive (more than k may remain). `k = 0` and `k >= vocab` change nothing.
 * The k-th largest comes from quickselect, O(vocab), not a full sort.
 */
export function applyTopK(logits: ArrayLike<number>, k: number): Float32Array {
  validateTopK(k);
  const out = float32Copy(logits, "logits");
  if (k === 0 || k >= out.length) return out;
  const kth = kthLargest(out, k);
  for (let i = 0; i < out.length; i++) if (out[i] < kth) out[i] = -Infinity;
  return out;
}

/**
 * Top-p (nucleus) filter as HF's TopPLogitsWarper: sort the logits ascending, take the running sum of
 * their softmax probabilities, and set to `-Infinity` every token whose running sum is `<= 1 - p`. The
 * most likely token (last in that order) is always kept. `p = 1` changes nothing.
 *
 * Ties: tokens with equal logits are ordered by id, as the stable sort PyTorch uses on the CPU
 * (pytorch/pytorch#103909), so when a tie straddles the cut the lower ids are removed first.
 * Precision: probabilities and the running sum are float64 and, like PyTorch's float32
 * `cumsum <= (1 - top_p)`, both sides are rounded to float32 before comparing; so probabilities
 * [0.1, 0.2, 0.3, 0.4] with p = 0.9 drop the 0.1 token, as in HF.
 * Speed: only the most likely tokens, which carry at least p + 1e-6 of the mass, are sorted; the mass
 * below them is summed in id order, which differs from the sorted-order sum by ~1e-16, far below float32.
 */
export function applyTopP(logits: ArrayLike<number>, p: number): Float32Array {
  validateTopP(p);
  const out = float32Copy(logits, "logits");
  if (p === 1) return out;
  const n = out.length;
  // Softmax in float64, relative to the maximum.
  const max = finiteMax(out);
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp(out[i] - max);
    sum += probs[i];
  }
  for (let i = 0; i < n; i++) probs[i] /= sum;
  // Tokens below `cut` hold at most 1 - p - 1e-6 together: every running sum among them is <= 1 - p,
  // so they are removed whatever their order; they form the start of the ascending order.
  const cut = nucleusCut(out, probs, p + 1e-6);
  let cumulative = 0;
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) {
    if (out[i] >= cut && out[i] > -Infinity) {
      candidates.push(i);
    } else {
      cumulative += probs[i];
      out[i] = -Infinity;
    }
  }
  // Walk the rest from the least likely up while the running sum stays <= 1 - p; never the last one.
  const order = ascendingOrder(out, Uint32Array.from(candidates));
  const threshold = Math.fround(1 - p);
  for (let r = 0; r < order.length - 1; r++) {
    cumulative += probs[order[r]];
    if (Math.fround(cumulative) > threshold) break;
    out[order[r]] = -Infinity;
  }
  return out;
}

/**
 * A logit value such that the tokens at or above it carry at least `mass` probability (or the smallest
 * finite logit when no such value exists). Tries the top 64, 256, ... tokens, each found by quickselect.
 */
function nucleusCut(logits: Float32Array, probs: Float64Array, mass: number): number {
  for (let k = 64; k < logits.length; k *= 4) {
    const cut = kthLargest(logits, k);
    let kept = 0;
    for (let i = 0; i < logits.length; i++) if (logits[i] >= cut) kept += probs[i];
    if (kept >= mass) return cut;
  }
  // Everything that can carry probability is a candidate; -Infinity tokens never can.
  let min = Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > -Infinity && logits[i] < min) min = logits[i];
  return min;
}

/**
 * Runs HF's sampling pipeline on one row of logits and returns every stage: temperature → top-k →
 * top-p → softmax. Options are validated first (see {@link validateSamplingOptions}); the caller's
 * array is not modified. Draw a token from the result with `sampleToken(stages.probs, random)`.
 */
export function processLogits(logits: ArrayLike<number>, options: SamplingOptions = {}): SamplingStages {
  const { temperature, topK, topP } = validateSamplingOptions(options);
  const raw = float32Copy(logits, "logits");
  const scaled = applyTemperature(raw, temperature);
  const keptK = applyTopK(scaled, topK);
  const keptP = applyTopP(keptK, topP);
  return { raw, temperature: scaled, topK: keptK, topP: keptP, probs: softmax(keptP) };
}

/** A new Float32Array holding `values` (a copy even when it already is one). */
function float32Copy(values: ArrayLike<number>, name: string): Float32Array {
  assertRow(values, name);
  return values instanceof Float32Array ? values.slice() : Float32Array.from(values);
}

// Ids fit in 21 bits next to a 32-bit sortable key inside one exact float64 integer (< 2^53).
const ID_BITS = 2 ** 21;

/**
 * The given `ids` sorted by ascending `values[id]`, equal values by ascending id (a stable sort).
 * Each float32 is mapped to a 32-bit key with the same order, packed with its id into one float64,
 * and the packed numbers are sorted natively, several times faster than a comparator sort.
 */
function ascendingOrder(values: Float32Array, ids: Uint32Array): Uint32Array {
  if (values.length > ID_BITS) return ids.sort((a, b) => values[a] - values[b] || a - b);
  const bits = new Uint32Array(1);
  const view = new Float32Array(bits.buffer);
  const packed = new Float64Array(ids.length);
  for (let r = 0; r < ids.length; r++) {
    // + 0 turns -0 into +0, so that the two zeros tie, as they compare equal.
    view[0] = values[ids[r]] + 0;
    const b = bits[0];
    // Negative floats: flip all bits (larger magnitude sorts first). Positive: set the sign bit.
    const key = b >= 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    packed[r] = key * ID_BITS + ids[r];
  }
  packed.sort();
  const order = new Uint32Array(ids.length);
  for (let r = 0; r < ids.length; r++) order[r] = packed[r] % ID_BITS;
  return order;
}
