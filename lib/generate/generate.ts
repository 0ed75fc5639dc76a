// Autoregressive generation with Hugging Face's `generate` semantics: every prompt is copied
// `numSamples` times into one left-padded batch (the prompt pass runs each distinct prompt once and
// the model copies its cache to the samples); each step feeds only the newest token (the key/value cache
// holds the rest), turns the last logits into a distribution (temperature → top-k → top-p →
// softmax, or argmax when greedy), draws a token per row, and can record what it saw.
// The processors (repetition penalty, n-grams, min new tokens) read each row's own text so far.
// With `numBeams` > 1 the search is beam-search.ts instead. Left out: stop strings.
import { END_OF_TEXT_ID } from "../config";
import type { DecodeState, Model } from "../model/model";
import { positionsFromMask } from "../model/model";
import { checkAborted, interruptible } from "../interrupt";
import { createRandom, type Random } from "../random";
import { chooseToken, type StepTrace } from "../sampling/choose";
import { processorsActive } from "../sampling/processors";
import { TextStream } from "../tokenizer/text-stream";
import { leftPad } from "../tokenizer/tokenizer";
import { beamSearch, type BeamTree } from "./beam-search";
import { checkBatchFits, checkContextFits } from "./limits";
import { type GenerateOptions, validateGenerateOptions } from "./options";
import { type Prompt, promptIds } from "./prompt";

/** One generated continuation. */
export interface Sample {
  /** Index of its prompt in the `prompt` argument. */
  prompt: number;
  /** The new token ids (prompt not included). */
  ids: number[];
  /** The new text (prompt not included). */
  text: string;
  /** The prompt and the new text, as the course prints it. */
  fullText: string;
  /**
   * The seed of the random number generator this sample drew with: `createRandom(seed)` replays its
   * draws (one `uniform()` per new token, through `sampleToken` on each step's final distribution;
   * greedy decoding draws nothing).
   */
  seed: number;
  /** Beam search: Hugging Face's `sequences_scores`, the summed log-probability ÷ (new tokens)^lengthPenalty. */
  score?: number;
  /** What happened at each of its steps (`steps[t]` chose `ids[t]`); empty when `trace` is `none` and in beam search. */
  steps: StepTrace[];
  /**
   * With `traceAttention`: `attention[t][layer][head][key]`, where the query that chose `ids[t]` (the
   * position before it) looked, over the prompt and the tokens generated before it.
   */
  attention?: Float32Array[][][];
}

export interface GenerateResult {
  /** The token ids of each prompt (an empty prompt is `<|endoftext|>`). */
  promptIds: number[][];
  /** `numSamples` samples per prompt, prompt by prompt. */
  samples: Sample[];
  /** True when decoding was greedy (`doSample: false`). */
  greedy: boolean;
  /** Options that were given but had no effect (sampling options under greedy decoding). */
  ignored: string[];
  /** Beam search: for each prompt, every step's hypotheses (draw them with `beamTreeFigure`). */
  beams?: BeamTree[];
}

/**
 * Generates `maxNewTokens` tokens after each prompt, `numSamples` times per prompt. A prompt is a
 * text, a list of texts, token id rows (`number[][]`, one per prompt), or what
 * `model.tokenizer.encodeBatch` returns; equal ids give equal results whichever form they came in.
 * The same seed gives the same samples; each sample equals what the same prompt gives alone.
 */
export async function generate(model: Model, prompt: Prompt, options: GenerateOptions = {}): Promise<GenerateResult> {
  const o = validateGenerateOptions(options);
  const prompts = promptIds(prompt, model.tokenizer);
  // A kernel interrupt (Jupyter's ■) stops the loop between two steps, as `signal` does.
  if (o.numBeams > 1) return interruptible("generation", (signal) => beamSearch(model, prompts, o, signal), o.signal);
  return interruptible("generation", (signal) => decode(model, prompts, o, signal), o.signal);
}

/** The loop behind `generate`, on checked options; `signal` stops it between steps. */
async function decode(model: Model, prompts: number[][], o: ReturnType<typeof validateGenerateOptions>, signal: AbortSignal): Promise<GenerateResult> {
  const { tokenizer, config } = model;

  // The batch: each prompt numSamples times, left-padded to the longest.
  const rows = prompts.flatMap((ids) => Array<number[]>(o.numSamples).fill(ids));
  // Rows with equal ids share one prompt pass; the k-th of them draws with the k-th generator.
  const { distinct, rowOf, occurrence } = groupEqualRows(rows);
  const batch = leftPad(rows);
  const promptLength = batch.inputIds[0].length;
  // The most positions this generation reaches: the cache's room is allocated once, for all of them.
  const finalLength = checkContextFits(model, promptLength, o.maxNewTokens);
  checkBatchFits(model, rows.length, prompts.length, finalLength);
  // One generator per sample, seeded by its index among the samples of the same prompt, so batching
  // changes nothing, and a prompt given ten times draws as one prompt with numSamples 10.
  const seeds = rows.map((_, row) => sampleSeed(o.seed, occurrence[row]));
  const randoms: Random[] = seeds.map((seed) => createRandom(seed));
  const streams = rows.map(() => new TextStream(tokenizer));
  const newIds: number[][] = rows.map(() => []);
  const steps: StepTrace[][] = rows.map(() => []);
  const finished = rows.map(() => false);
  const text = (id: number) => tokenizer.tokenText(id);
  // Each row's text so far, for the processors that read it.
  const context = processorsActive(o) ? rows.map((ids) => [...ids]) : null;

  // The prompt pass reads each distinct prompt once: its copies would compute the same cache and
  // logits, which the model copies to them.
  const first = distinct.length < rows.length ? leftPad(distinct) : batch;
  let inputIds = first.inputIds;
  let attentionMask = first.attentionMask;
  let positionIds = attentionMask.map(positionsFromMask);
  // The cache of the last step (on WebGPU, an ONNX export's cache lives in GPU memory until disposed).
  let past: DecodeState | null = null;
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      checkAborted(signal, "Generation was aborted");
      // Only the last position's logits are needed: decoder.onnx skips the output head for the rest.
      let outputs = await model.step({ inputIds, attentionMask, positionIds, state: past, logitsToKeep: 1, finalLength });
      if (inputIds.length < rows.length) {
        outputs = await model.selectRows(outputs, rowOf);
        ({ attentionMask } = batch);
        positionIds = attentionMask.map(positionsFromMask);
      }
      model.disposeCache(past);
      past = outputs.state;
      const { logits } = outputs;
      const vocab = config.vocab_size;
      const kept = logits.length / (rows.length * vocab); // positions per row; each row's last one is read
      const next = rows.map((_, row) => {
        if (finished[row]) return END_OF_TEXT_ID; // a stopped sample is padded, as in transformers
        const offset = ((row + 1) * kept - 1) * vocab;
        const soFar = context && { ids: context[row], newTokens: newIds[row].length };
        const { id, trace } = chooseToken(logits.subarray(offset, offset + vocab), o, randoms[row], text, soFar ?? undefined);
        if (trace) steps[row].push(trace);
        newIds[row].push(id);
        context?.[row].push(id);
        const piece = streams[row].push(id);
        if (piece && o.onToken) o.onToken({ sample: row, step, tokenId: id, text: piece });
        if (o.stopAtEos && id === END_OF_TEXT_ID) finished[row] = true;
        return id;
      });
      if (finished.every(Boolean)) break;
      // Feed only the new tokens; the cache remembers the rest.
      inputIds = next.map((id) => [id]);
      attentionMask = attentionMask.map((mask) => [...mask, 1]);
      positionIds = positionIds.map((positions) => [positions[positions.length - 1] + 1]);
    }
  } finally {
    model.disposeCache(past);
  }

  const samples: Sample[] = rows.map((ids, row) => {
    const rest = streams[row].flush();
    if (rest && o.onToken) o.onToken({ sample: row, step: newIds[row].length - 1, tokenId: newIds[row].at(-1)!, text: rest });
    return {
      prompt: Math.floor(row / o.numSamples),
      ids: newIds[row],
      text: streams[row].text,
      fullText: tokenizer.decode([...ids, ...newIds[row]]),
      seed: seeds[row],
      steps: steps[row],
    };
  });
  if (o.traceAttention) {
    for (const [row, sample] of samples.entries()) sample.attention = await lookedAt(model, rows[row], newIds[row]);
  }
  return { promptIds: prompts, samples, greedy: !o.doSample, ignored: o.ignored };
}

/** Per new token, the attention row (per layer and head) of the position that chose it. */
async function lookedAt(model: Model, prompt: number[], generated: number[]): Promise<Float32Array[][][]> {
  if (generated.length === 0) return [];
  const { attentions } = await model.inspect([...prompt, ...generated.slice(0, -1)], { lens: false });
  return generated.map((_, t) => {
    const query = prompt.length - 1 + t;
    return attentions.map((heads) => heads.map((rows) => rows[query].slice(0, query + 1)));
  });
}

/** The distinct rows, which of them each row is, and how many equal rows came before it. */
function groupEqualRows(rows: number[][]): { distinct: number[][]; rowOf: number[]; occurrence: number[] } {
  const index = new Map<string, number>();
  const distinct: number[][] = [];
  const seen: number[] = [];
  const rowOf = rows.map((ids) => {
    const key = ids.join(",");
    if (!index.has(key)) {
      index.set(key, distinct.length);
      distinct.push(ids);
      seen.push(0);
    }
    return index.get(key)!;
  });
  const occurrence = rowOf.map((d) => seen[d]++);
  return { distinct, rowOf, occurrence };
}

/** Mixes the user's seed with a sample index (a 32-bit hash, so nearby seeds differ widely), in [0, MAX_SEED]. */
function sampleSeed(seed: number, sample: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(sample + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
