// The three classic logits warpers of Hugging Face transformers' `generate(do_sample=True)`:
// temperature, top-k and top-p (generation/logits_process.py: TemperatureLogitsWarper,
// TopKLogitsWarper, TopPLogitsWarper). Each filter is written once, on the ids it keeps
// (`topKIds`, `nucleusIds`), which the pipeline (pipeline.ts) chains; the [vocab]-sized arrays the
// notebooks look at (`applyTopK`, ...) are those ids spread back over the row, removed tokens at
// -Infinity. Left out: min_tokens_to_keep > 1 (beam sampling only).
import { expectInteger, expectNumber } from "../checks";
import { assertRow, finiteMax, probabilitiesAt } from "./distribution";
import { kthLargest } from "./select";

/** Temperature, top-k and top-p, with Hugging Face's `GenerationConfig` defaults. */
export interface WarperOptions {
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

/** `logits` divided by `temperature`, a new array. */
export function divide(logits: Float32Array, temperature: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] / temperature;
  return out;
}

/** A copy of `values` with every token outside `ids` set to -Infinity. */
export function spread(values: Float32Array, ids: Int32Array): Float32Array {
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

/** Ids (ascending) of the logits at or above the k-th largest: ties with it survive; every finite one when k is 0. */
export function topKIds(values: Float32Array, k: number): Int32Array {
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
export function nucleusIds(values: Float32Array, ids: Int32Array, p: number): Int32Array {
  const probs = probabilitiesAt(values, ids);
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
