// One probability distribution over the vocabulary, read and drawn from: softmax and log-softmax (as
// torch.softmax over the last axis), argmax (first maximum, as torch.argmax), entropy, the top N, ranks,
// and the inverse-CDF draw that turns one seeded uniform into a token id. Every row is flat: [vocab].
// Sums and exponentials run in float64; NaN and +Infinity logits are rejected instead of propagated.
// Not reproduced: torch.multinomial's random stream, so seeded draws differ from PyTorch's draws.
import type { Random } from "./random";

/**
 * Turns logits into probabilities: `exp(x - max) / sum(exp(x - max))`, with float64 accumulators.
 * `-Infinity` gives exactly 0. Throws `RangeError` for NaN, `+Infinity`, or a row that is all `-Infinity`.
 */
export function softmax(logits: ArrayLike<number>): Float32Array {
  const max = finiteMax(logits);
  // Shift by the maximum so the largest exponent is exp(0) = 1: no overflow, at least one term is 1.
  const exps = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    exps[i] = Math.exp(logits[i] - max);
    sum += exps[i];
  }
  const probs = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) probs[i] = exps[i] / sum;
  return probs;
}

/**
 * Natural-log probabilities, `x - max - log(sum(exp(x - max)))`, in float64 so that very unlikely
 * tokens keep their value instead of rounding to `log(0)`. `-Infinity` stays `-Infinity`.
 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const max = finiteMax(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - max - logSum;
  return out;
}

/**
 * Draws one token id from `probs` by inverse CDF: one uniform `u` from `random`, then the first id whose
 * cumulative probability exceeds `u * total`. Dividing by the total tolerates rows that sum to 1 only up
 * to rounding. A token with probability 0 is never returned.
 */
export function sampleToken(probs: ArrayLike<number>, random: Random): number {
  assertRow(probs, "probs");
  let total = 0;
  let i = 0;
  for (; i < probs.length; i++) {
    const p = probs[i];
    if (!(p >= 0 && p < Infinity)) break;
    total += p;
  }
  if (i < probs.length) throw badProb(probs[i], i);
  if (total === 0) throw new RangeError("Expected `probs` to have a positive entry, but every entry is 0");
  const target = random.uniform() * total;
  // Walk the CDF. Only an entry with p > 0 can lift `cumulative` past `target`.
  let cumulative = 0;
  let lastPositive = 0;
  for (let id = 0; id < probs.length; id++) {
    if (probs[id] === 0) continue;
    cumulative += probs[id];
    lastPositive = id;
    if (cumulative > target) return id;
  }
  // Unreachable for u < 1 (u * total < total in float64, and the walk sums exactly as `total` did);
  // a generator that returns 1 lands here, on the last token that can be drawn.
  return lastPositive;
}

/** Index of the largest value; the first one when several tie (as `torch.argmax`). Greedy decoding's pick. */
export function argmax(values: ArrayLike<number>): number {
  assertRow(values, "values");
  let best = 0;
  let i = 0;
  for (; i < values.length; i++) {
    const x = values[i];
    if (x !== x) break;
    if (x > values[best]) best = i;
  }
  if (i < values.length) throw nanAt("values", i);
  return best;
}

/** Shannon entropy of `probs` in nats (natural log), with 0·log 0 = 0. Uniform over n tokens gives log n. */
export function entropy(probs: ArrayLike<number>): number {
  assertRow(probs, "probs");
  let sum = 0;
  let i = 0;
  for (; i < probs.length; i++) {
    const p = probs[i];
    if (!(p >= 0 && p < Infinity)) break;
    if (p > 0) sum -= p * Math.log(p);
  }
  if (i < probs.length) throw badProb(probs[i], i);
  return sum;
}

/** One entry of a {@link topN} list. */
export interface TokenProb {
  /** Token id (index into the vocabulary). */
  id: number;
  /** Its probability (or whatever value the row held). */
  prob: number;
}

/**
 * The `n` most likely tokens, most likely first; equal values in id order. `n` larger than the row is
 * clamped; `n = 0` gives an empty list.
 */
export function topN(probs: ArrayLike<number>, n: number): TokenProb[] {
  assertRow(probs, "probs");
  if (typeof n !== "number") throw new TypeError(`Expected \`n\` to be a non-negative integer, got ${formatReceived(n)}`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Expected \`n\` to be a non-negative integer, got ${formatReceived(n)}`);
  const count = Math.min(n, probs.length);
  if (count === 0) return [];
  // Select the threshold in O(vocab), then sort only the few entries at or above it.
  const threshold = kthLargest(probs, count);
  const entries: TokenProb[] = [];
  for (let id = 0; id < probs.length; id++) {
    if (probs[id] >= threshold) entries.push({ id, prob: probs[id] });
  }
  entries.sort((a, b) => b.prob - a.prob || a.id - b.id);
  return entries.slice(0, count);
}

/**
 * Rank of token `id` in `values` (logits or probs): how many entries are strictly greater, so 0 is the
 * most likely and tied tokens share a rank.
 */
export function rankOf(values: ArrayLike<number>, id: number): number {
  assertRow(values, "values");
  if (typeof id !== "number") throw new TypeError(`Expected \`id\` to be an integer, got ${formatReceived(id)}`);
  if (!Number.isInteger(id) || id < 0 || id >= values.length) {
    throw new RangeError(`Expected \`id\` to be an integer in [0, ${values.length - 1}], got ${formatReceived(id)}`);
  }
  const value = values[id];
  let rank = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > value) rank++;
  return rank;
}

/**
 * The k-th largest value of `values` (k = 1 is the maximum; every tied copy counts, as in `torch.topk`:
 * the 2nd largest of [5, 5, 3] is 5).
 * Quickselect on a float64 copy: O(vocab) on average, no full sort. Throws `RangeError` for NaN.
 */
export function kthLargest(values: ArrayLike<number>, k: number): number {
  assertRow(values, "values");
  if (!Number.isInteger(k) || k < 1 || k > values.length) {
    throw new RangeError(`Expected \`k\` to be an integer in [1, ${values.length}], got ${formatReceived(k)}`);
  }
  const copy = new Float64Array(values.length);
  let i = 0;
  for (; i < values.length; i++) {
    const x = values[i];
    if (x !== x) break;
    copy[i] = x;
  }
  if (i < values.length) throw nanAt("values", i);
  // The k-th largest sits at position length - k of the ascending order.
  return selectInPlace(copy, values.length - k);
}

/** Hoare quickselect with a median-of-three pivot; after too many rounds it sorts what is left. */
function selectInPlace(a: Float64Array, target: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let roundsLeft = 2 * Math.ceil(Math.log2(a.length + 1)) + 8;
  while (hi > lo) {
    if (roundsLeft-- === 0) {
      // Guard against adversarial orders: the native numeric sort is O(n log n) in the worst case.
      a.subarray(lo, hi + 1).sort();
      return a[target];
    }
    const pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi]);
    let i = lo;
    let j = hi;
    // Partition: afterwards a[lo..j] <= pivot, a[i..hi] >= pivot, and everything between equals pivot.
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const swap = a[i];
        a[i] = a[j];
        a[j] = swap;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function medianOfThree(a: number, b: number, c: number): number {
  if (a < b) return b < c ? b : a < c ? c : a;
  return a < c ? a : b < c ? c : b;
}

/** The maximum of a logits row, checked: no NaN, no +Infinity, not all -Infinity (`RangeError`). */
export function finiteMax(logits: ArrayLike<number>): number {
  assertRow(logits, "logits");
  let max = -Infinity;
  let i = 0;
  for (; i < logits.length; i++) {
    const x = logits[i];
    if (x !== x || x === Infinity) break;
    if (x > max) max = x;
  }
  if (i < logits.length) {
    if (logits[i] !== logits[i]) throw nanAt("logits", i);
    throw new RangeError(
      `Expected \`logits\` to be finite or -Infinity, got +Infinity at index ${i} ` +
        "(a tiny temperature can overflow float32; use greedy decoding, `doSample: false`, instead)",
    );
  }
  if (max === -Infinity) {
    throw new RangeError("Every entry of `logits` is -Infinity, so no token is possible; loosen the filters that removed them");
  }
  return max;
}

// Errors are built outside the hot loops: a template literal inside a loop made V8 run it ~10x slower.
function nanAt(name: string, index: number): RangeError {
  return new RangeError(`Expected \`${name}\` to hold no NaN, got NaN at index ${index}`);
}

function badProb(value: number, index: number): RangeError {
  return new RangeError(`Expected \`probs\` to hold finite non-negative numbers, got \`${value}\` at index ${index}`);
}

/** Checks that `values` is a non-empty array or typed array of numbers (one row, [vocab]). */
export function assertRow(values: ArrayLike<number>, name: string): void {
  if (!(Array.isArray(values) || ArrayBuffer.isView(values))) {
    throw new TypeError(`Expected \`${name}\` to be a Float32Array or an array of numbers, got ${formatReceived(values)}`);
  }
  if (values.length === 0) throw new RangeError(`Expected \`${name}\` to be non-empty, got an empty array`);
}

/** Formats a received value for error messages: `1.5` (number), `"3"` (string). */
export function formatReceived(value: unknown): string {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return `\`${shown}\` (${value === null ? "null" : typeof value})`;
}
