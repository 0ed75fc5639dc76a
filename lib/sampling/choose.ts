// Choosing each step's token in the decoding loop, and describing the choice for the trace. Greedy
// decoding takes the argmax after the processors (repetition penalty, n-grams, min new tokens);
// sampling runs the whole pipeline (pipeline.ts) on the ids each filter keeps and draws among
// those, so top-k sampling never builds a [vocab]-sized distribution. The trace uses the stages'
// own names (`raw`, `repetitionPenalty`, ..., `probs`), so a step traced with `trace: 'full'` can
// be handed to `samplingStagesFigure` and `whyRemoved` as it is.
import type { Random } from "../random";
import { argmax, drawIndex, entropy, rankOf, softmax, topN } from "./distribution";
import { sortedLargest, largest } from "./select";
import { expandStages, type PipelineSettings, processRow, runStages, type SamplingStages } from "./pipeline";
import type { TextSoFar } from "./processors";

/** What one sample did at one step. */
export interface StepTrace extends Partial<SamplingStages> {
  /** The chosen token: its text, its probability under the final distribution, and its rank (0 = most likely). */
  token: { id: number; text: string; prob: number; rank: number };
  /** Entropy of the final distribution, in nats (0 = certain; ln 50257 ≈ 10.8 = uniform). */
  entropy: number;
  /** The `traceTopN` most likely tokens of the final distribution. */
  top: { id: number; text: string; prob: number }[];
  // With trace `full`, the stages as `processLogits` returns them, each a [vocab] copy (201 kB):
  // `raw` and `probs` always (greedy: softmax of the processed logits), the active processors,
  // and `temperature`, `topK`, `topP` and the active cutoffs when sampling.
}

/** The decoding settings `chooseToken` needs, validated where they entered (generate/options.ts). */
export interface ChoiceSettings extends PipelineSettings {
  doSample: boolean;
  trace: "none" | "top" | "full";
  traceTopN: number;
}

/** Picks one token from one row of logits, [vocab], and, if asked, describes the choice. */
export function chooseToken(
  logits: Float32Array,
  o: ChoiceSettings,
  random: Random,
  tokenText: (id: number) => string,
  text?: TextSoFar,
): { id: number; trace?: StepTrace } {
  if (!o.doSample) {
    const { row, processed } = processRow(logits, o, text, o.trace === "full");
    const id = argmax(row);
    if (o.trace === "none") return { id };
    const probs = softmax(row);
    const trace = describe(id, row, probs[id], entropy(probs), topN(probs, o.traceTopN), tokenText);
    if (o.trace === "full") Object.assign(trace, { raw: logits.slice(), ...Object.fromEntries(processed.map((p) => [p.stage, p.row])), probs, thresholds: {} });
    return { id, trace };
  }
  const kept = runStages(logits, o, text, o.trace === "full");
  const chosen = drawIndex(kept.probs, random);
  const id = kept.ids[chosen];
  if (o.trace === "none") return { id };
  const trace = describe(id, kept.scaled, kept.probs[chosen], entropy(kept.probs), keptTop(kept.ids, kept.probs, o.traceTopN, logits.length), tokenText);
  if (o.trace === "full") Object.assign(trace, expandStages(logits, kept));
  return { id, trace };
}

function describe(
  id: number,
  logits: Float32Array,
  prob: number,
  h: number,
  top: { id: number; prob: number }[],
  text: (id: number) => string,
): StepTrace {
  return {
    token: { id, text: text(id), prob, rank: rankOf(logits, id) },
    entropy: h,
    top: top.map(({ id: token, prob: p }) => ({ id: token, text: text(token), prob: p })),
  };
}

/**
 * The `n` most likely tokens when only `ids` have a probability: from the kept tokens when at least
 * `n` of them are positive, else from the whole row, where the zeros follow in id order.
 */
function keptTop(ids: Int32Array, probs: Float32Array, n: number, vocab: number): { id: number; prob: number }[] {
  let positive = 0;
  for (const p of probs) if (p > 0) positive++;
  if (n > positive) {
    const full = new Float32Array(vocab);
    ids.forEach((id, j) => (full[id] = probs[j]));
    return topN(full, n);
  }
  return sortedLargest(largest(probs, n))
    .slice(0, n)
    .map(({ id: j, value }) => ({ id: ids[j], prob: value }));
}
