// Beam search as Hugging Face transformers runs it with `num_beams > 1` and `do_sample=False`
// (generation/utils.py `_beam_search`, generation/beam_search.py `BeamSearchScorer` and
// `BeamHypotheses`, 4.46): each step scores every beam's next tokens by log-softmax, the
// processors and the beam's running sum (all float32, as in PyTorch), takes the 2 × numBeams best
// over all beams, ends those that chose <|endoftext|> among the first numBeams, and keeps the
// first numBeams others. A finished hypothesis scores sum / (new tokens)^lengthPenalty, its
// <|endoftext|> counted. The model reorders its key/value cache rows in place to follow the beams.
// Left out: beam sampling (`do_sample` with beams), diverse and constrained beam search.
import { END_OF_TEXT_ID } from "../config";
import type { DecodeState, Model } from "../model/model";
import { checkAborted } from "../interrupt";
import { logSoftmax } from "../sampling/distribution";
import { applyProcessors } from "../sampling/processors";
import { largest, sortedLargest } from "../sampling/select";
import type { GenerateResult, Sample } from "./generate";
import { checkBatchFits, checkContextFits } from "./limits";
import type { validateGenerateOptions } from "./options";

type Settings = ReturnType<typeof validateGenerateOptions>;

/** A hypothesis at one step of beam search. */
export interface BeamNode {
  /** The hypothesis it extends: an index into the previous step's `kept` (the prompt at step 0). */
  parent: number;
  /** Its new token. */
  id: number;
  text: string;
  /** The token's log-probability (after the processors), in nats. */
  logProb: number;
  /** The running sum of log-probabilities: the beam's score while it runs. */
  sum: number;
}

/** One step of beam search: the beams kept, and the hypotheses that ended here with <|endoftext|>. */
export interface BeamStep {
  kept: BeamNode[];
  /** `score` is the final score, sum / (new tokens)^lengthPenalty. */
  finished: (BeamNode & { score: number })[];
}

/** The whole search for one prompt: every step, and where each returned sequence ends. */
export interface BeamTree {
  promptIds: number[];
  steps: BeamStep[];
  /** For each returned sequence, best first: its last node (`steps[step].kept[index]` or `.finished[index]`) and score. */
  returned: { step: number; index: number; finished: boolean; score: number }[];
  lengthPenalty: number;
}

/** The n-best list of finished hypotheses (HF's BeamHypotheses). */
class Finished {
  readonly list: { score: number; ids: number[]; at: { step: number; index: number; finished: boolean } }[] = [];
  private worst = 1e9;
  constructor(
    private readonly numBeams: number,
    private readonly lengthPenalty: number,
    private readonly earlyStopping: boolean | "never",
    private readonly maxNew: number,
  ) {}

  add(ids: number[], sum: number, generated: number, at: Finished["list"][number]["at"]): number {
    const score = sum / generated ** this.lengthPenalty;
    if (this.list.length < this.numBeams || score > this.worst) {
      this.list.push({ score, ids, at });
      if (this.list.length > this.numBeams) {
        const order = this.list.map((h, i) => ({ s: h.score, i })).sort((a, b) => a.s - b.s || a.i - b.i);
        this.list.splice(order[0].i, 1);
        this.worst = order[1].s;
      } else {
        this.worst = Math.min(score, this.worst);
      }
    }
    return score;
  }

  /** Whether no running beam can enter the list any more; `best` is the step's best running sum, `generated` the new tokens so far. */
  done(best: number, generated: number): boolean {
    if (this.list.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    const length = this.earlyStopping === "never" && this.lengthPenalty > 0 ? this.maxNew : generated;
    return this.worst >= best / length ** this.lengthPenalty;
  }
}

/** Beam search for each prompt in turn, on checked options. */
export async function beamSearch(model: Model, prompts: number[][], o: Settings, signal: AbortSignal): Promise<GenerateResult> {
  const samples: Sample[] = [];
  const beams: BeamTree[] = [];
  for (const [p, prompt] of prompts.entries()) {
    const tree = await searchOne(model, prompt, o, signal);
    beams.push(tree.tree);
    for (const { ids, score } of tree.best) {
      samples.push({ prompt: p, ids, text: model.tokenizer.decode(ids), fullText: model.tokenizer.decode([...prompt, ...ids]), seed: o.seed, steps: [], score });
    }
  }
  return { promptIds: prompts, samples, greedy: true, ignored: o.ignored, beams };
}

async function searchOne(model: Model, prompt: number[], o: Settings, signal: AbortSignal) {
  const { numBeams, maxNewTokens } = o;
  const vocab = model.config.vocab_size;
  const finalLength = checkContextFits(model, prompt.length, maxNewTokens);
  checkBatchFits(model, numBeams, 1, finalLength);
  const text = (id: number) => model.tokenizer.tokenText(id);
  const finished = new Finished(numBeams, o.lengthPenalty, o.earlyStopping, maxNewTokens);
  const stopAtEos = o.stopAtEos;
  // Every beam starts as the prompt; only the first counts at step 0 (HF's -1e9 for the others).
  let context: number[][] = Array.from({ length: numBeams }, () => [...prompt]);
  let sums = Float32Array.from({ length: numBeams }, (_, b) => (b === 0 ? 0 : -1e9));
  const steps: BeamStep[] = [];
  const scores = new Float32Array(numBeams * vocab);
  let past: DecodeState | null = null;
  let isDone = false;
  try {
    // The prompt runs once; the model copies its cache to every beam.
    let outputs = await model.step({ inputIds: [prompt], attentionMask: [prompt.map(() => 1)], positionIds: [prompt.map((_, t) => t)], state: null, logitsToKeep: 1, finalLength });
    outputs = await model.selectRows(outputs, Array(numBeams).fill(0));
    for (let step = 0; step < maxNewTokens; step++) {
      checkAborted(signal, "Generation was aborted");
      past = outputs.state;
      for (let b = 0; b < numBeams; b++) {
        const row = scores.subarray(b * vocab, (b + 1) * vocab);
        logSoftmax(outputs.logits.subarray(b * vocab, (b + 1) * vocab), row);
        applyProcessors(row, { ids: context[b], newTokens: step }, o);
        for (let v = 0; v < vocab; v++) row[v] += sums[b];
      }
      // The 2 × numBeams best (beam, token) pairs, best first; equal scores by index.
      const candidates = sortedLargest(largest(scores, 2 * numBeams));
      const kept: BeamNode[] = [];
      const done: BeamStep["finished"] = [];
      const nextContext: number[][] = [];
      const parents: number[] = [];
      for (const [rank, { id: index, value }] of candidates.entries()) {
        const parent = Math.floor(index / vocab);
        const id = index % vocab;
        const node = { parent, id, text: text(id), logProb: Math.fround(value - sums[parent]), sum: value };
        if (stopAtEos && id === END_OF_TEXT_ID) {
          if (rank >= numBeams) continue;
          const ids = [...context[parent].slice(prompt.length), id];
          const score = finished.add(ids, value, step + 1, { step, index: done.length, finished: true });
          done.push({ ...node, score });
        } else {
          kept.push(node);
          parents.push(parent);
          nextContext.push([...context[parent], id]);
        }
        if (kept.length === numBeams) break;
      }
      steps.push({ kept, finished: done });
      isDone = finished.done(candidates[0].value, step + 1);
      sums = Float32Array.from(kept, (n) => n.sum);
      context = nextContext;
      if (isDone || step === maxNewTokens - 1) break;
      // The cache follows the beams: row b becomes the row of its parent.
      await model.reorderRows(outputs.state, parents);
      outputs = await model.step({
        inputIds: kept.map((n) => [n.id]),
        attentionMask: context.map((ids) => ids.map(() => 1)),
        positionIds: context.map((ids) => [ids.length - 1]),
        state: outputs.state,
        logitsToKeep: 1,
        finalLength,
      });
    }
    past = outputs.state;
  } finally {
    model.disposeCache(past);
  }
  // Beams still running at the end compete with the finished ones (HF's `finalize`).
  const last = steps.length - 1;
  if (!isDone) context.forEach((ids, b) => finished.add(ids.slice(prompt.length), sums[b], ids.length - prompt.length, { step: last, index: b, finished: false }));
  const ranked = finished.list.map((h, i) => ({ h, i })).sort((a, b) => b.h.score - a.h.score || b.i - a.i).map(({ h }) => h);
  const best = ranked.slice(0, o.numReturnSequences);
  const tree: BeamTree = { promptIds: prompt, steps, returned: best.map((h) => ({ ...h.at, score: h.score })), lengthPenalty: o.lengthPenalty };
  return { tree, best: best.map((h) => ({ ids: h.ids, score: h.score })) };
}
