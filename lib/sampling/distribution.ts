// One probability distribution over the vocabulary, read and drawn from: softmax and log-softmax (as
// torch.softmax over the last axis), argmax (first maximum, as torch.argmax), entropy, the top N, ranks,
// and the inverse-CDF draw that turns one seeded uniform into a token id. Every row is flat: [vocab].
// Sums and exponentials run in float64; NaN and +Infinity logits are rejected instead of propagated.
// Each function also works on a subset of the row given by ascending ids (the tokens a filter kept),
// which is how the decoding loop runs the same maths without expanding every stage to [vocab].
// Not reproduced: torch.multinomial's random stream, so seeded draws differ from PyTorch's draws.
import { expectInteger, invalid } from "../checks";
import type { Random } from "../random";
import { kthLargest, nanAt } from "./select";

/**
 * Turns logits into probabilities: `exp(x - max) / sum(exp(x - max))`, with float64 accumulators.
 * `-Infinity` gives exactly 0. Throws `RangeError` for NaN, `+Infinity`, or a row that is all `-Infinity`.
 */
export function softmax(logits: ArrayLike<number>): Float32Array {
  assertRow(logits, "logits");
  return softmaxAt(logits);
}

/**
 * The softmax over the tokens `ids` only (every other token has probability 0): one probability per
 * id, in the order of `ids`. Summed in ascending id order, so with all ids it is `softmax` exactly.
 */
export function softmaxAt(logits: ArrayLike<number>, ids?: ArrayLike<number>): Float32Array {
  return Float32Array.from(probabilitiesAt(logits, ids));
}

/**
 * `softmaxAt` before rounding to float32: the probabilities in float64, for the filters that sum or
 * compare them (top-p, the cutoffs).
 */
export function probabilitiesAt(logits: ArrayLike<number>, ids?: ArrayLike<number>): Float64Array {
  const max = finiteMax(logits, ids);
  const count = ids ? ids.length : logits.length;
  // Shift by the maximum so the largest exponent is exp(0) = 1: no overflow, at least one term is 1.
  const probs = new Float64Array(count);
  let sum = 0;
  for (let j = 0; j < count; j++) {
    probs[j] = Math.exp(logits[ids ? ids[j] : j] - max);
    sum += probs[j];
  }
  for (let j = 0; j < count; j++) probs[j] /= sum;
  return probs;
}

/**
 * Natural-log probabilities, `x - max - log(sum(exp(x - max)))`, computed in float64 so that very
 * unlikely tokens keep their value instead of rounding to `log(0)`. `-Infinity` stays `-Infinity`.
 * Written into `out` when given (a Float32Array rounds them, as beam search's scores are).
 */
export function logSoftmax<T extends Float32Array | Float64Array = Float64Array>(logits: ArrayLike<number>, out?: T): T {
  assertRow(logits, "logits");
  const max = finiteMax(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logSum = Math.log(sum);
  const result = out ?? (new Float64Array(logits.length) as T);
  for (let i = 0; i < logits.length; i++) result[i] = logits[i] - max - logSum;
  return result;
}

/**
 * Draws one token id from `probs` by inverse CDF: one uniform `u` from `random`, then the first id whose
 * cumulative probability exceeds `u * total`. Dividing by the total tolerates rows that sum to 1 only up
 * to rounding. A token with probability 0 is never returned.
 */
export function sampleToken(probs: ArrayLike<number>, random: Random): number {
  assertRow(probs, "probs");
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!(p >= 0 && p < Infinity)) throw badProb(p, i);
  }
  return drawIndex(probs, random);
}

/**
 * The inverse-CDF draw of `sampleToken` on checked probabilities, returning an index into `probs`
 * (which may hold only the kept tokens' probabilities, in id order).
 */
export function drawIndex(probs: ArrayLike<number>, random: Random): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  if (total === 0) throw new RangeError("Expected `probs` to have a positive entry, but every entry is 0");
  const target = random.uniform() * total;
  // Walk the CDF. Only an entry with p > 0 can lift `cumulative` past `target`.
  let cumulative = 0;
  let lastPositive = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    lastPositive = i;
    if (cumulative > target) return i;
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
  expectInteger(n, "n", 0);
  const count = Math.min(n, probs.length);
  if (count === 0) return [];
  // Select the threshold in one pass, then sort only the few entries at or above it.
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
  expectInteger(id, "id", 0, values.length - 1);
  const value = values[id];
  let rank = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > value) rank++;
  return rank;
}

/** The maximum of a logits row (or of the entries `ids` names), checked: no NaN, no +Infinity, not all -Infinity (`RangeError`). */
export function finiteMax(logits: ArrayLike<number>, ids?: ArrayLike<number>): number {
  const count = ids ? ids.length : logits.length;
  let max = -Infinity;
  for (let j = 0; j < count; j++) {
    const i = ids ? ids[j] : j;
    const x = logits[i];
    if (x !== x) throw nanAt("logits", i);
    if (x === Infinity) {
      throw new RangeError(
        `Expected \`logits\` to be finite or -Infinity, got +Infinity at index ${i} ` +
          "(a tiny temperature can overflow float32; use greedy decoding, `doSample: false`, instead)",
      );
    }
    if (x > max) max = x;
  }
  if (max === -Infinity) {
    throw new RangeError("Every entry of `logits` is -Infinity, so no token is possible; loosen the filters that removed them");
  }
  return max;
}

// Errors are built outside the hot loops: a template literal inside a loop slows V8's loop down.
function badProb(value: number, index: number): RangeError {
  return new RangeError(`Expected \`probs\` to hold finite non-negative numbers, got \`${value}\` at index ${index}`);
}

/** Checks that `values` is a non-empty array or typed array of numbers (one row, [vocab]). */
export function assertRow(values: ArrayLike<number>, name: string): void {
  if (!(Array.isArray(values) || ArrayBuffer.isView(values))) throw invalid(TypeError, name, "a Float32Array or an array of numbers", values);
  if (values.length === 0) throw invalid(RangeError, name, "non-empty", values);
}
