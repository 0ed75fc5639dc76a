// Autoregressive generation with Hugging Face's `generate` semantics: every prompt is copied
// `numSamples` times into one left-padded batch (the prompt pass runs each prompt once and copies
// its cache); each step feeds only the newest token (the KV cache holds the rest), turns the last
// logits into a distribution (temperature → top-k → top-p → softmax, or argmax when greedy), draws
// a token per row, and can record what it saw.
// Left out: beam search, repetition penalties, stop strings.
import { chooseToken, type StepTrace } from "./choose-token";
import { END_OF_TEXT_ID } from "./config";
import * as ort from "onnxruntime-node";
import { type DecoderOutputs, disposeCache, type KvCache, type Model, positionsFromMask } from "./model";
import { createRandom, type Random } from "./random";
import { type GenerateOptions, validateGenerateOptions } from "./generate-options";
import { TextStream } from "./text-stream";

export type { GenerateOptions, TraceLevel } from "./generate-options";
export type { StepTrace } from "./choose-token";

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
}

export interface GenerateResult {
  /** The token ids of each prompt (an empty prompt is `<|endoftext|>`). */
  promptIds: number[][];
  /** `numSamples` samples per prompt, prompt by prompt. */
  samples: Sample[];
  /** `steps[step][sample]`, empty when `trace` is `none`. A finished sample has no entry (undefined). */
  steps: (StepTrace | undefined)[][];
  /** True when decoding was greedy (`doSample: false`). */
  greedy: boolean;
  /** Options that were given but had no effect (sampling options under greedy decoding). */
  ignored: string[];
}

/**
 * Generates `maxNewTokens` tokens after each prompt, `numSamples` times per prompt.
 * The same seed gives the same samples; each sample equals what the same prompt gives alone.
 */
export async function generate(model: Model, prompt: string | string[], options: GenerateOptions = {}): Promise<GenerateResult> {
  const prompts = typeof prompt === "string" ? [prompt] : prompt;
  if (!Array.isArray(prompts) || prompts.length === 0 || prompts.some((p) => typeof p !== "string")) {
    throw new TypeError(`Expected \`prompt\` to be a string or a non-empty array of strings, got ${JSON.stringify(prompt)}`);
  }
  const o = validateGenerateOptions(options);
  const { tokenizer, config } = model;

  // The batch: each prompt numSamples times, left-padded to the longest.
  const rows = prompts.flatMap((text) => Array<string>(o.numSamples).fill(text));
  const batch = tokenizer.encodeBatch(rows);
  const promptLength = batch.inputIds[0].length;
  if (promptLength + o.maxNewTokens > config.n_positions) {
    throw new RangeError(
      `The prompt is ${promptLength} tokens and \`maxNewTokens\` is ${o.maxNewTokens}, ${promptLength + o.maxNewTokens} in all, ` +
        `but this model's context is ${config.n_positions} tokens; shorten the prompt or lower \`maxNewTokens\``,
    );
  }
  // One generator per sample, seeded by its index within its prompt, so batching changes nothing.
  const randoms: Random[] = rows.map((_, row) => createRandom(sampleSeed(o.seed, row % o.numSamples)));
  const streams = rows.map(() => new TextStream(tokenizer));
  const newIds: number[][] = rows.map(() => []);
  const finished = rows.map(() => false);
  const steps: (StepTrace | undefined)[][] = [];
  const text = (id: number) => tokenizer.tokenText(id);

  // The prompt pass reads each prompt once: its numSamples copies would compute the same cache and
  // logits, which are repeated for them. (Not on WebGPU, whose cache stays in GPU memory.)
  const shared = o.numSamples > 1 && model.device !== "webgpu" ? tokenizer.encodeBatch(prompts) : null;
  let inputIds = shared?.inputIds ?? batch.inputIds;
  let attentionMask = shared?.attentionMask ?? batch.attentionMask;
  let positionIds = attentionMask.map(positionsFromMask);
  // The cache of the last run; on WebGPU it lives in GPU memory until disposed.
  let past: KvCache | null = null;
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      if (o.signal?.aborted) throw abortError(o.signal);
      // Only the last position's logits are needed: decoder.onnx skips the output head for the rest.
      let { logits, present } = await model.run({ inputIds, attentionMask, positionIds, past, logitsToKeep: 1 });
      if (inputIds.length < rows.length) {
        ({ logits, present } = repeatRows({ logits, present }, inputIds.length, o.numSamples));
        ({ attentionMask } = batch);
        positionIds = attentionMask.map(positionsFromMask);
      }
      disposeCache(past);
      past = present;
      const vocab = config.vocab_size;
      const kept = logits.length / (rows.length * vocab);
      const traces: (StepTrace | undefined)[] = [];
      const next = rows.map((_, row) => {
        if (finished[row]) return END_OF_TEXT_ID; // a stopped sample is padded, as in transformers
        const offset = (row * kept + kept - 1) * vocab;
        const last = logits.subarray(offset, offset + vocab);
        const { id, trace } = chooseToken(last, o, randoms[row], text);
        traces[row] = trace;
        newIds[row].push(id);
        const piece = streams[row].push(id);
        if (piece && o.onToken) o.onToken({ sample: row, step, tokenId: id, text: piece });
        if (o.stopAtEos && id === END_OF_TEXT_ID) finished[row] = true;
        return id;
      });
      if (o.trace !== "none") steps.push(traces);
      if (finished.every(Boolean)) break;
      // Feed only the new tokens; the cache remembers the rest.
      inputIds = next.map((id) => [id]);
      attentionMask = attentionMask.map((mask) => [...mask, 1]);
      positionIds = positionIds.map((positions) => [positions[positions.length - 1] + 1]);
    }
  } finally {
    disposeCache(past);
  }

  // Each prompt's own ids, without the padding the batch added.
  const promptIds = prompts.map((_, p) => {
    const row = p * o.numSamples;
    return batch.inputIds[row].filter((_, t) => batch.attentionMask[row][t] === 1);
  });
  const samples = rows.map((_, row) => {
    const rest = streams[row].flush();
    if (rest && o.onToken) o.onToken({ sample: row, step: newIds[row].length - 1, tokenId: newIds[row].at(-1)!, text: rest });
    const prompt = Math.floor(row / o.numSamples);
    return {
      prompt,
      ids: newIds[row],
      text: streams[row].text,
      fullText: tokenizer.decode([...promptIds[prompt], ...newIds[row]]),
    };
  });
  return {
    promptIds,
    samples,
    steps,
    greedy: !o.doSample,
    ignored: o.ignored,
  };
}

/** Each of the `batch` rows of a decoder run's logits and cache (in CPU memory) repeated `times` times in a row. */
function repeatRows({ logits, present }: DecoderOutputs, batch: number, times: number): DecoderOutputs {
  return {
    logits: repeatBlocks(logits, batch, times),
    present: present.map((tensor) => {
      const data = repeatBlocks(tensor.data as Float32Array | Uint16Array, batch, times);
      return new ort.Tensor(tensor.type as "float32", data as Float32Array, [batch * times, ...tensor.dims.slice(1)]);
    }),
  };
}

/** `data` as `count` equal blocks, each written `times` times in a row. */
function repeatBlocks<T extends Float32Array | Uint16Array>(data: T, count: number, times: number): T {
  const size = data.length / count;
  const out = new (data.constructor as new (length: number) => T)(data.length * times);
  for (let block = 0; block < count; block++) {
    const source = data.subarray(block * size, (block + 1) * size);
    for (let copy = 0; copy < times; copy++) out.set(source, (block * times + copy) * size);
  }
  return out;
}

/** Mixes the user's seed with a sample index (a 32-bit integer hash, so nearby seeds differ widely). */
function sampleSeed(seed: number, sample: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(sample + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error("Generation was aborted");
  error.name = "AbortError";
  return error;
}
