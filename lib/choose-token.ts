// Choosing each step's token in the decoding loop, and describing the choice for the trace. The
// common cases take a short cut that gives the same tokens and probabilities, bit for bit, as the
// step-by-step stages of sampling.ts: top-k sampling (top-p off) finds the k best logits in one
// pass and takes the softmax over those few, since every other token has probability exactly 0;
// a traced greedy step reads the vocabulary twice instead of building every stage.
// Everything else (top-p, no top-k, trace 'full', NaN or +Infinity logits) runs the stages.
import { argmax, entropy, rankOf, sampleToken, softmax, topN } from "./distribution";
import type { Random } from "./random";
import { processLogits } from "./sampling";

/** What one sample did at one step. */
export interface StepTrace {
  /** The chosen token: its text, its probability under the final distribution, and its rank (0 = most likely). */
  token: { id: number; text: string; prob: number; rank: number };
  /** Entropy of the final distribution, in nats (0 = certain; ln 50257 ≈ 10.8 = uniform). */
  entropy: number;
  /** The `traceTopN` most likely tokens of the final distribution. */
  top: { id: number; text: string; prob: number }[];
  /** With trace `full`: the raw logits (a copy; 201 kB each). */
  logits?: Float32Array;
  /** With trace `full`: logits after temperature (sampling only). */
  afterTemperature?: Float32Array;
  /** With trace `full`: logits after top-k (sampling only; removed tokens are -Infinity). */
  afterTopK?: Float32Array;
  /** With trace `full`: logits after top-p (sampling only). */
  afterTopP?: Float32Array;
  /** With trace `full`: the final distribution the token was drawn from (softmax of raw logits when greedy). */
  probs?: Float32Array;
}

/** The decoding settings `chooseToken` needs (validated by generate-options.ts). */
export interface ChoiceSettings {
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  trace: "none" | "top" | "full";
  traceTopN: number;
}

/** Picks one token from one row of logits, [vocab], and, if asked, describes the choice. */
export function chooseToken(
  logits: Float32Array,
  o: ChoiceSettings,
  random: Random,
  tokenText: (id: number) => string,
): { id: number; trace?: StepTrace } {
  if (!o.doSample) {
    if (o.trace === "none") return { id: argmax(logits) };
    if (o.trace === "top") {
      const fast = describeGreedy(logits, o.traceTopN, tokenText);
      if (fast) return fast;
    }
    const id = argmax(logits);
    return { id, trace: describeChoice(id, logits, softmax(logits), o.trace, o.traceTopN, tokenText) };
  }
  if (o.topP === 1 && o.topK > 0 && o.topK < logits.length && o.trace !== "full") {
    const fast = sampleTopK(logits, o.temperature, o.topK, random, o.trace === "top" ? o.traceTopN : 0, tokenText);
    if (fast) return fast;
  }
  const stages = processLogits(logits, { temperature: o.temperature, topK: o.topK, topP: o.topP });
  const id = sampleToken(stages.probs, random);
  if (o.trace === "none") return { id };
  const trace = describeChoice(id, logits, stages.probs, o.trace, o.traceTopN, tokenText);
  if (o.trace === "full") {
    trace.afterTemperature = stages.temperature;
    trace.afterTopK = stages.topK;
    trace.afterTopP = stages.topP;
  }
  return { id, trace };
}

/** The trace of a choice from the full distribution `probs`. */
function describeChoice(id: number, logits: Float32Array, probs: Float32Array, level: "top" | "full", n: number, text: (id: number) => string): StepTrace {
  const trace: StepTrace = {
    token: { id, text: text(id), prob: probs[id], rank: rankOf(logits, id) },
    entropy: entropy(probs),
    top: topN(probs, n).map(({ id: token, prob }) => ({ id: token, text: text(token), prob })),
  };
  if (level === "full") {
    trace.logits = logits.slice();
    trace.probs = probs;
  }
  return trace;
}

/**
 * Top-k sampling without the full stages: the k-th largest of fround(logit / temperature) from a
 * k-entry min-heap, the candidates (every value at or above it, in id order), their softmax, and
 * the inverse-CDF draw, each summed in id order exactly as softmax and sampleToken do over the
 * whole row. Returns null when a logit is NaN or +Infinity or every candidate is -Infinity, so the
 * stages report the problem.
 */
function sampleTopK(
  logits: Float32Array,
  temperature: number,
  k: number,
  random: Random,
  traceTopN: number,
  text: (id: number) => string,
): { id: number; trace?: StepTrace } | null {
  const n = logits.length;
  const scaled = temperature === 1 ? logits : new Float32Array(n);
  const heapValues = new Float64Array(k);
  const heapIds = new Int32Array(k);
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (temperature !== 1) scaled[i] = logits[i] / temperature;
    const v = scaled[i]; // read back: rounded to float32, as applyTemperature stores it
    if (v !== v || v === Infinity) return null;
    if (size < k) pushPair(heapValues, heapIds, size++, v, i);
    else if (v > heapValues[0]) replacePair(heapValues, heapIds, k, v, i);
  }
  const kth = heapValues[0];
  const ids: number[] = [];
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = scaled[i];
    if (v >= kth) {
      ids.push(i);
      if (v > max) max = v;
    }
  }
  if (max === -Infinity) return null;
  // Softmax over the candidates: float64 exponentials and sum, float32 probabilities.
  const exps = new Float64Array(ids.length);
  let sum = 0;
  for (let j = 0; j < ids.length; j++) {
    exps[j] = Math.exp(scaled[ids[j]] - max);
    sum += exps[j];
  }
  const probs = new Float32Array(ids.length);
  let total = 0;
  for (let j = 0; j < ids.length; j++) {
    probs[j] = exps[j] / sum;
    total += probs[j];
  }
  // The draw: the first candidate whose cumulative probability passes u · total.
  const target = random.uniform() * total;
  let cumulative = 0;
  let chosen = -1;
  for (let j = 0; j < ids.length; j++) {
    if (probs[j] === 0) continue;
    cumulative += probs[j];
    chosen = j;
    if (cumulative > target) break;
  }
  const id = ids[chosen];
  if (traceTopN === 0) return { id };

  let h = 0;
  let positive = 0;
  for (let j = 0; j < ids.length; j++) {
    if (probs[j] > 0) {
      h -= probs[j] * Math.log(probs[j]);
      positive++;
    }
  }
  let top: { id: number; prob: number }[];
  if (traceTopN <= positive) {
    // Every token outside the candidates has probability 0, so the top N are candidates.
    const order = Array.from(ids.keys()).sort((a, b) => probs[b] - probs[a] || ids[a] - ids[b]);
    top = order.slice(0, traceTopN).map((j) => ({ id: ids[j], prob: probs[j] }));
  } else {
    const full = new Float32Array(n);
    ids.forEach((token, j) => (full[token] = probs[j]));
    top = topN(full, traceTopN);
  }
  const trace: StepTrace = {
    token: { id, text: text(id), prob: probs[chosen], rank: rankOf(logits, id) },
    entropy: h,
    top: top.map(({ id: token, prob }) => ({ id: token, text: text(token), prob })),
  };
  return { id, trace };
}

/**
 * A traced greedy step in two passes over the row: the first finds the maximum (first index on
 * ties, as argmax) and the best `n + 8` logits; the second sums exp(logit - max) for the softmax
 * denominator and for the entropy, computed in float64 as log S - Σ e·(x - max) / S, which needs no
 * logarithm per token. The top N are sorted by their float32 probabilities, ties by id, as topN
 * does; if a tie could reach past the extra 8, returns null and the full stages decide.
 */
function describeGreedy(logits: Float32Array, n: number, text: (id: number) => string): { id: number; trace: StepTrace } | null {
  const length = logits.length;
  const width = Math.min(n + 8, length);
  // A min-heap of the best `width` logits, values beside their ids.
  const heapValues = new Float64Array(width);
  const heapIds = new Int32Array(width);
  let size = 0;
  let best = 0;
  for (let i = 0; i < length; i++) {
    const x = logits[i];
    if (x !== x || x === Infinity) return null;
    if (x > logits[best]) best = i;
    if (size < width) pushPair(heapValues, heapIds, size++, x, i);
    else if (x > heapValues[0]) replacePair(heapValues, heapIds, width, x, i);
  }
  const max = logits[best];
  if (max === -Infinity) return null;
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < length; i++) {
    const shifted = logits[i] - max;
    if (shifted === -Infinity) continue;
    const e = Math.exp(shifted);
    sum += e;
    weighted += e * shifted;
  }
  const prob = (id: number) => Math.fround(Math.exp(logits[id] - max) / sum);
  const candidates = Array.from(heapIds.subarray(0, size), (id) => ({ id, prob: prob(id) }));
  candidates.sort((a, b) => b.prob - a.prob || a.id - b.id);
  const count = Math.min(n, length);
  // Tokens outside the heap have logits, so probabilities, at most those inside: a tie at the
  // boundary between the N-th and the (N+8)-th could hide a lower id outside.
  if (size < length && candidates[size - 1].prob === candidates[count - 1].prob) return null;
  return {
    id: best,
    trace: {
      token: { id: best, text: text(best), prob: prob(best), rank: 0 },
      entropy: Math.log(sum) - weighted / sum,
      top: candidates.slice(0, count).map(({ id, prob: p }) => ({ id, text: text(id), prob: p })),
    },
  };
}

// A binary min-heap of values in values[0..size), each with an id beside it in ids.
function pushPair(values: Float64Array, ids: Int32Array, at: number, value: number, id: number): void {
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if (values[parent] <= value) break;
    values[at] = values[parent];
    ids[at] = ids[parent];
    at = parent;
  }
  values[at] = value;
  ids[at] = id;
}

function replacePair(values: Float64Array, ids: Int32Array, size: number, value: number, id: number): void {
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    if (child + 1 < size && values[child + 1] < values[child]) child++;
    if (values[child] >= value) break;
    values[at] = values[child];
    ids[at] = ids[child];
    at = child;
  }
  values[at] = value;
  ids[at] = id;
}
