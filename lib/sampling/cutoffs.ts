// The sampling warpers Hugging Face applies after temperature, top-k and top-p, in its order:
// min-p → typical-p → epsilon → eta (generation/logits_process.py MinPLogitsWarper,
// TypicalLogitsWarper, EpsilonLogitsWarper, EtaLogitsWarper, as their code reads: min-p takes p in
// [0, 1]; eta's cut is min(ε, √ε · e^−H) with H the entropy in nats). Each works on the ids the
// earlier stages kept (every other token has probability 0, as HF's -inf gives) and returns the ids
// it keeps and the threshold it cut at. Probabilities are float64 rounded to float32 before a
// comparison, as PyTorch compares float32 tensors. The most likely token always survives
// (`min_tokens_to_keep` 1, HF's value without beams).
import { expectNumber } from "../checks";
import { entropy, probabilitiesAt } from "./distribution";

/** The cutoffs' settings, with Hugging Face's defaults (each off). */
export interface CutoffOptions {
  /**
   * Min-p: removes every token less likely than `minP` times the likeliest token's probability, so
   * the cut follows the model's confidence. In [0, 1]; 0 turns it off (HF suggests 0.01 to 0.2).
   * @default 0
   */
  minP?: number;
  /**
   * Typical sampling: keeps the tokens whose surprise (−log p) is closest to the distribution's
   * entropy, up to probability `typicalP`. In (0, 1]; 1 turns it off.
   * @default 1
   */
  typicalP?: number;
  /** Removes every token whose probability is below this. In [0, 1); 0 turns it off (HF suggests 3e-4 to 9e-4). @default 0 */
  epsilonCutoff?: number;
  /**
   * Eta sampling: an epsilon cut that adapts to the entropy H, at min(η, √η · e^−H). In [0, 1);
   * 0 turns it off (HF suggests 3e-4 to 2e-3).
   * @default 0
   */
  etaCutoff?: number;
}

export const CUTOFF_STAGES = ["minP", "typicalP", "epsilonCutoff", "etaCutoff"] as const;
export type CutoffStage = (typeof CUTOFF_STAGES)[number];

/** Checks the cutoffs' settings and fills in the defaults. */
export function validateCutoffOptions({ minP = 0, typicalP = 1, epsilonCutoff = 0, etaCutoff = 0 }: CutoffOptions): Required<CutoffOptions> {
  expectNumber(minP, "minP", "a number in [0, 1] (0 turns it off)", (x) => x >= 0 && x <= 1);
  expectNumber(typicalP, "typicalP", "a number in (0, 1] (1 turns it off)", (x) => x > 0 && x <= 1);
  expectNumber(epsilonCutoff, "epsilonCutoff", "a number in [0, 1) (0 turns it off)", (x) => x >= 0 && x < 1);
  expectNumber(etaCutoff, "etaCutoff", "a number in [0, 1) (0 turns it off)", (x) => x >= 0 && x < 1);
  return { minP, typicalP, epsilonCutoff, etaCutoff };
}

/** Whether a cutoff stage is on (HF adds it to its list only then). */
export function cutoffActive(stage: CutoffStage, o: Required<CutoffOptions>): boolean {
  return stage === "typicalP" ? o.typicalP < 1 : o[stage] > 0;
}

/** What a cutoff kept, and the value it compared against. */
export interface Cut {
  ids: Int32Array;
  /** minP, epsilon and eta: the probability a token needed; typical: the largest surprise gap kept. */
  threshold: number;
}

/** Runs one active cutoff on the candidates `ids` (ascending) of `values`. */
export function applyCutoff(stage: CutoffStage, values: Float32Array, ids: Int32Array, o: Required<CutoffOptions>): Cut {
  const probs = probabilitiesAt(values, ids);
  if (stage === "typicalP") return typical(values, ids, probs, o.typicalP);
  // The likeliest token is always kept; epsilon and eta keep every token tied with it too (HF
  // removes only tokens whose logit is below the largest).
  const best = argmaxAt(values, ids);
  let threshold: number;
  if (stage === "minP") {
    threshold = Math.fround(o.minP * probs[best]);
  } else if (stage === "epsilonCutoff") {
    threshold = Math.fround(o.epsilonCutoff);
  } else {
    const eta = o.etaCutoff;
    threshold = Math.fround(Math.min(eta, Math.sqrt(eta) * Math.exp(-entropy(probs))));
  }
  const top = values[ids[best]];
  const tied = stage === "minP" ? (j: number) => j === best : (j: number) => values[ids[j]] >= top;
  return { ids: keep(ids, (j) => tied(j) || Math.fround(probs[j]) >= threshold), threshold };
}

/**
 * Typical-p as TypicalLogitsWarper: order the tokens by |−log p − H|, take the running sum of their
 * probabilities in that order, and keep every token whose gap is at most the gap of the first token
 * at which the sum reaches `mass` (the first token is always kept).
 */
function typical(values: Float32Array, ids: Int32Array, probs: Float64Array, mass: number): Cut {
  const h = entropy(probs);
  const gaps = new Float64Array(ids.length);
  for (let j = 0; j < ids.length; j++) gaps[j] = Math.fround(Math.abs(-Math.fround(Math.log(probs[j])) - Math.fround(h)));
  const order = Array.from(ids, (_, j) => j).sort((a, b) => gaps[a] - gaps[b] || a - b);
  const target = Math.fround(mass);
  let cumulative = 0;
  let last = order.length - 1;
  for (let r = 0; r < order.length; r++) {
    cumulative += probs[order[r]];
    if (Math.fround(cumulative) >= target) {
      last = r;
      break;
    }
  }
  const threshold = gaps[order[last]];
  const first = order[0];
  return { ids: keep(ids, (j) => j === first || gaps[j] <= threshold), threshold };
}

/** Position (in `ids`) of the largest value; the first on ties. */
function argmaxAt(values: Float32Array, ids: Int32Array): number {
  let best = 0;
  for (let j = 1; j < ids.length; j++) if (values[ids[j]] > values[ids[best]]) best = j;
  return best;
}

function keep(ids: Int32Array, kept: (j: number) => boolean): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < ids.length; j++) if (kept(j)) out.push(ids[j]);
  return Int32Array.from(out);
}
