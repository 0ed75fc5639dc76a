// The logits warpers of Hugging Face transformers' `generate(do_sample=True)`, in HF's order:
// temperature → top-k → top-p → softmax (src/transformers/generation/logits_process.py:
// TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper; the order is in generation/utils.py
// `_get_logits_processor`). Each filter is written once, on the ids it keeps: `runStages` is what the
// decoding loop uses, and the [vocab]-sized arrays the notebooks look at (`applyTopK`,
// `processLogits`, ...) are those ids spread back over the row, removed tokens at -Infinity.
// Left out: min_tokens_to_keep > 1 (beam search only), min-p, typical-p, epsilon/eta cutoffs, penalties.
import { expectInteger, expectNumber, expectOptions } from "../checks";
import { assertRow, finiteMax, softmaxAt } from "./distribution";
import { kthLargest } from "./select";

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

/** What the filters kept at one step: ids in ascending order, and the logits they were applied to. */
export interface KeptTokens {
  /** The logits after temperature, [vocab] (the caller's array itself when the temperature is 1). */
  scaled: Float32Array;
  /** Ids that survived top-k. */
  afterTopK: Int32Array;
  /** Ids that survived top-p too: the tokens that can be drawn. */
  afterTopP: Int32Array;
  /** Their probabilities, one per id of `afterTopP`. */
  probs: Float32Array;
}

const OPTION_NAMES = ["temperature", "topK", "topP"] as const;

/** Checks `temperature`: a finite number > 0. */
export function validateTemperature(temperature: number): void {
  expectNumber(temperature, "temperature", "a finite number > 0", (t) => t > 0 && t < Infinity, "for deterministic output use greedy decoding (`doSample: false`)");
}

/** Checks `topK`: a non-negative integer (0 = no filter). */
export function validateTopK(topK: number): void {
  expectInteger(topK, "topK", 0);
}

/** Checks `topP`: a number in (0, 1] (1 = no filter). */
export function validateTopP(topP: number): void {
  expectNumber(topP, "topP", "a number in (0, 1]", (p) => p > 0 && p <= 1);
}

/**
 * Validates sampling options once, where they enter, and fills in the defaults
 * (`temperature` 1, `topK` 50, `topP` 1). Unknown keys are a `TypeError` that lists the known ones.
 */
export function validateSamplingOptions(options: SamplingOptions = {}): Required<SamplingOptions> {
  expectOptions(options, "sampling options", OPTION_NAMES);
  const { temperature = 1, topK = 50, topP = 1 } = options;
  validateTemperature(temperature);
  validateTopK(topK);
  validateTopP(topP);
  return { temperature, topK, topP };
}

/**
 * Runs temperature → top-k → top-p → softmax on one row of logits, [vocab], with settings already
 * validated. Only the kept tokens are carried from stage to stage. Throws `RangeError` for NaN or
 * +Infinity logits and when no token is left.
 */
export function runStages(logits: Float32Array, temperature: number, topK: number, topP: number): KeptTokens {
  const scaled = temperature === 1 ? logits : divide(logits, temperature);
  finiteMax(scaled); // NaN and +Infinity are reported here, with their index
  const afterTopK = topKIds(scaled, topK);
  const afterTopP = topP === 1 ? afterTopK : nucleusIds(scaled, afterTopK, topP);
  return { scaled, afterTopK, afterTopP, probs: softmaxAt(scaled, afterTopP) };
}

/** Divides every logit by `temperature` (as HF's TemperatureLogitsWarper); `-Infinity` stays `-Infinity`. */
export function applyTemperature(logits: ArrayLike<number>, temperature: number): Float32Array {
  assertRow(logits, "logits");
  validateTemperature(temperature);
  return divide(Float32Array.from(logits), temperature);
}

/**
 * Top-k filter as HF's TopKLogitsWarper: every logit below the k-th largest becomes `-Infinity`, so all
 * logits tied with the k-th survive (more than k may remain). `k = 0` and `k >= vocab` change nothing.
 */
export function applyTopK(logits: ArrayLike<number>, k: number): Float32Array {
  assertRow(logits, "logits");
  validateTopK(k);
  const row = Float32Array.from(logits);
  if (k === 0 || k >= row.length) return row;
  return spread(row, topKIds(row, k));
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
 */
export function applyTopP(logits: ArrayLike<number>, p: number): Float32Array {
  assertRow(logits, "logits");
  validateTopP(p);
  const row = Float32Array.from(logits);
  if (p === 1) return row;
  finiteMax(row);
  return spread(row, nucleusIds(row, finiteIds(row), p));
}

/**
 * Runs HF's sampling pipeline on one row of logits and returns every stage: temperature → top-k →
 * top-p → softmax. Options are validated first (see {@link validateSamplingOptions}); the caller's
 * array is not modified. Draw a token from the result with `sampleToken(stages.probs, random)`.
 */
export function processLogits(logits: ArrayLike<number>, options: SamplingOptions = {}): SamplingStages {
  assertRow(logits, "logits");
  const { temperature, topK, topP } = validateSamplingOptions(options);
  const raw = Float32Array.from(logits);
  return expandStages(raw, runStages(raw, temperature, topK, topP));
}

/** The [vocab] arrays of `processLogits` from what `runStages` kept for `raw`. */
export function expandStages(raw: Float32Array, kept: KeptTokens): SamplingStages {
  const probs = new Float32Array(raw.length);
  kept.afterTopP.forEach((id, j) => (probs[id] = kept.probs[j]));
  return {
    raw: raw.slice(),
    temperature: kept.scaled === raw ? raw.slice() : kept.scaled.slice(),
    topK: spread(kept.scaled, kept.afterTopK),
    topP: spread(kept.scaled, kept.afterTopP),
    probs,
  };
}

function divide(logits: Float32Array, temperature: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] / temperature;
  return out;
}

/** A copy of `values` with every token outside `ids` set to -Infinity. */
function spread(values: Float32Array, ids: Int32Array): Float32Array {
  const out = new Float32Array(values.length).fill(-Infinity);
  for (const id of ids) out[id] = values[id];
  return out;
}

/** Ids of the entries that are not -Infinity, ascending. */
function finiteIds(values: Float32Array): Int32Array {
  const ids: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] > -Infinity) ids.push(i);
  return Int32Array.from(ids);
}

/** Ids (ascending) of the logits at or above the k-th largest: ties with it survive. */
function topKIds(values: Float32Array, k: number): Int32Array {
  if (k === 0 || k >= values.length) return finiteIds(values);
  const kth = kthLargest(values, k);
  const ids: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] >= kth && values[i] > -Infinity) ids.push(i);
  return Int32Array.from(ids);
}

/**
 * The nucleus among the candidates `ids` (ascending, finite logits). Only the most likely
 * candidates, which carry at least p + 1e-6 of the mass, are sorted; the mass below them is summed
 * in id order, which differs from the sorted-order sum by ~1e-16, far below float32.
 */
function nucleusIds(values: Float32Array, ids: Int32Array, p: number): Int32Array {
  // Softmax in float64, relative to the maximum.
  const max = finiteMax(values, ids);
  const probs = new Float64Array(ids.length);
  let sum = 0;
  for (let j = 0; j < ids.length; j++) {
    probs[j] = Math.exp(values[ids[j]] - max);
    sum += probs[j];
  }
  for (let j = 0; j < ids.length; j++) probs[j] /= sum;
  // Candidates below `cut` hold at most 1 - p - 1e-6 together: every running sum among them is
  // <= 1 - p, so they are removed whatever their order; they form the start of the ascending order.
  const cut = nucleusCut(values, ids, probs, p + 1e-6);
  let cumulative = 0;
  const above: number[] = [];
  for (let j = 0; j < ids.length; j++) {
    if (values[ids[j]] >= cut) above.push(j);
    else cumulative += probs[j];
  }
  // Walk the rest from the least likely up while the running sum stays <= 1 - p; never the last one.
  // Positions ascend with ids, so equal logits stay in id order.
  const order = above.sort((a, b) => values[ids[a]] - values[ids[b]] || a - b);
  const threshold = Math.fround(1 - p);
  let removed = 0;
  for (; removed < order.length - 1; removed++) {
    cumulative += probs[order[removed]];
    if (Math.fround(cumulative) > threshold) break;
  }
  return Int32Array.from(order.slice(removed).map((j) => ids[j])).sort();
}

/**
 * A logit value such that the candidates at or above it carry at least `mass` probability (or the
 * smallest candidate logit when no such value exists). Tries the top 64, 256, ... candidates.
 */
function nucleusCut(values: Float32Array, ids: Int32Array, probs: Float64Array, mass: number): number {
  for (let k = 64; k < ids.length; k *= 4) {
    const cut = kthLargest(values, k, ids);
    let kept = 0;
    for (let j = 0; j < ids.length; j++) if (values[ids[j]] >= cut) kept += probs[j];
    if (kept >= mass) return cut;
  }
  let min = Infinity;
  for (const id of ids) if (values[id] < min) min = values[id];
  return min;
}
