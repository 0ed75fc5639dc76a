// One step's logits to the distribution a token is drawn from, in Hugging Face's order
// (generation/utils.py `_get_logits_processor`): the processors that read the text so far
// (repetition penalty → no-repeat n-grams → min new tokens), then the sampling warpers
// (temperature → top-k → top-p → min-p → typical-p → epsilon → eta), then softmax. `runStages` is
// what the decoding loop runs, carrying only the kept ids from filter to filter; `processLogits`
// spreads every stage back over the vocabulary for the notebooks, and `whyRemoved` says which
// stage removed a token and at what threshold.
import { expectOptions, invalid } from "../checks";
import { assertRow, entropy, finiteMax, softmax, softmaxAt } from "./distribution";
import { applyCutoff, CUTOFF_STAGES, type CutoffOptions, cutoffActive, type CutoffStage, validateCutoffOptions } from "./cutoffs";
import { applyProcessors, PROCESSOR_STAGES, type ProcessorOptions, processorsActive, type ProcessorStage, type TextSoFar, validateProcessorOptions } from "./processors";
import { divide, nucleusIds, spread, topKIds, validateTemperature, validateTopK, validateTopP, type WarperOptions } from "./warpers";

/** Every setting of one step's pipeline, with Hugging Face's `GenerationConfig` defaults. */
export interface SamplingOptions extends ProcessorOptions, WarperOptions, CutoffOptions {}

/** The pipeline's stages in order; `raw` comes before them and `probs` after. */
export const STAGES = [...PROCESSOR_STAGES, "temperature", "topK", "topP", ...CUTOFF_STAGES] as const;
export type StageName = (typeof STAGES)[number];
type FilterStage = "topK" | "topP" | CutoffStage;

/**
 * The row after each stage of {@link processLogits}, each a new [vocab] array (removed tokens at
 * `-Infinity`). `raw`, `temperature`, `topK`, `topP` and `probs` are always there; a processor or
 * cutoff only when it is on.
 */
export type SamplingStages = { raw: Float32Array; temperature: Float32Array; topK: Float32Array; topP: Float32Array; probs: Float32Array } & Partial<
  Record<ProcessorStage | CutoffStage, Float32Array>
> & {
    /**
     * Where each filter cut: for `topK` and `topP` the lowest logit kept; `minP`, `epsilonCutoff`,
     * `etaCutoff` the probability a token needed; `typicalP` the largest |−log p − H| kept;
     * `noRepeatNgramSize` and `minNewTokens` their settings.
     */
    thresholds: Partial<Record<StageName, number>>;
  };

/** One step's settings, validated. */
export type PipelineSettings = Required<SamplingOptions>;

/** What the stages kept at one step: ids ascending, with what each filter did. */
export interface KeptTokens {
  /** The rows after each active processor, when asked to record them. */
  processed: { stage: ProcessorStage; row: Float32Array }[];
  /** The logits the filters worked on: after the processors and the temperature, [vocab]. */
  scaled: Float32Array;
  /** Each active filter: the ids it left and its threshold. */
  filters: { stage: FilterStage; ids: Int32Array; threshold: number }[];
  /** The ids that can be drawn, and their probabilities. */
  ids: Int32Array;
  probs: Float32Array;
}

const OPTION_NAMES = [...STAGES];

/** Validates a step's settings once, where they enter, and fills in the defaults. Unknown keys are a `TypeError` listing the known ones. */
export function validateSamplingOptions(options: SamplingOptions = {}): PipelineSettings {
  expectOptions(options, "sampling options", OPTION_NAMES);
  const { temperature = 1, topK = 50, topP = 1 } = options;
  validateTemperature(temperature);
  validateTopK(topK);
  validateTopP(topP);
  return { ...validateProcessorOptions(options), temperature, topK, topP, ...validateCutoffOptions(options) };
}

/**
 * Runs the stages on one row of logits, [vocab], with settings already validated; the caller's row
 * is copied before a processor changes it. `text` is what the processors read (required when one
 * is on). `record` keeps a copy of the row after each processor, for a full trace.
 */
export function runStages(logits: Float32Array, s: PipelineSettings, text?: TextSoFar, record = false): KeptTokens {
  const { row, processed } = processRow(logits, s, text, record);
  const scaled = s.temperature === 1 ? row : divide(row, s.temperature);
  finiteMax(scaled); // NaN and +Infinity are reported here, with their index
  const filters: KeptTokens["filters"] = [];
  let ids = topKIds(scaled, s.topK);
  filters.push({ stage: "topK", ids, threshold: lowest(scaled, ids) });
  if (s.topP < 1) ids = nucleusIds(scaled, ids, s.topP);
  filters.push({ stage: "topP", ids, threshold: lowest(scaled, ids) });
  for (const stage of CUTOFF_STAGES) {
    if (!cutoffActive(stage, s)) continue;
    const cut = applyCutoff(stage, scaled, ids, s);
    ids = cut.ids;
    filters.push({ stage, ...cut });
  }
  return { processed, scaled, filters, ids, probs: softmaxAt(scaled, ids) };
}

/**
 * The processors' part of the pipeline, which greedy decoding runs too: `logits` itself when none is
 * on, else a processed copy. `record` keeps a copy of the row after each processor.
 */
export function processRow(logits: Float32Array, s: Required<ProcessorOptions>, text?: TextSoFar, record = false): { row: Float32Array; processed: KeptTokens["processed"] } {
  const processed: KeptTokens["processed"] = [];
  if (!processorsActive(s)) return { row: logits, processed };
  if (!text) throw new TypeError("Expected the text so far (`text`) for `repetitionPenalty`, `noRepeatNgramSize` or `minNewTokens`");
  const row = logits.slice();
  applyProcessors(row, text, s, record ? (stage) => processed.push({ stage, row: row.slice() }) : undefined);
  return { row, processed };
}

/**
 * Runs the whole pipeline on one row of logits and returns every stage (see {@link SamplingStages}).
 * `text` is the text so far, which `repetitionPenalty`, `noRepeatNgramSize` and `minNewTokens`
 * read: its ids (prompt included) and how many of them are new. The caller's array is not
 * modified. Draw a token from the result with `sampleToken(stages.probs, random)`.
 */
export function processLogits(logits: ArrayLike<number>, options: SamplingOptions = {}, text?: { ids: readonly number[]; newTokens?: number }): SamplingStages {
  assertRow(logits, "logits");
  const s = validateSamplingOptions(options);
  if (text !== undefined && (typeof text !== "object" || !Array.isArray(text.ids))) {
    throw invalid(TypeError, "text", "{ ids: number[], newTokens?: number } (the text so far, prompt included)", text);
  }
  const raw = Float32Array.from(logits);
  return expandStages(raw, runStages(raw, s, text && { ids: text.ids, newTokens: text.newTokens ?? 0 }, true));
}

/** The [vocab] arrays of `processLogits` from what `runStages` kept for `raw` (recorded). */
export function expandStages(raw: Float32Array, kept: KeptTokens): SamplingStages {
  const probs = new Float32Array(raw.length);
  kept.ids.forEach((id, j) => (probs[id] = kept.probs[j]));
  const stages: Record<string, Float32Array> = { raw: raw.slice() };
  for (const { stage, row } of kept.processed) stages[stage] = row;
  stages.temperature = kept.scaled === raw ? raw.slice() : kept.scaled.slice();
  const thresholds: Partial<Record<StageName, number>> = {};
  for (const { stage, ids, threshold } of kept.filters) {
    stages[stage] = spread(kept.scaled, ids);
    thresholds[stage] = threshold;
  }
  return { ...stages, probs, thresholds } as SamplingStages;
}

/** Why a token has probability 0 at the end of the pipeline. */
export interface Removal {
  /** The first stage after which the token was gone (`raw` when its logit was already -Infinity). */
  stage: StageName | "raw";
  /** That stage's threshold (see `SamplingStages.thresholds`). */
  threshold?: number;
  /** The token's own value compared with the threshold: its logit, probability or surprise gap. */
  value?: number;
  /** The same in words. */
  reason: string;
}

/**
 * Which stage removed token `id`, and why; null when the token can still be drawn. Takes what
 * `processLogits` returns or a step traced with `trace: 'full'`.
 */
export function whyRemoved(stages: SamplingStages, id: number): Removal | null {
  if (!stages || !(stages.raw instanceof Float32Array) || !stages.probs) {
    throw invalid(TypeError, "stages", "what `processLogits` returns, or a step traced with `trace: 'full'`", stages);
  }
  if (!Number.isInteger(id) || id < 0 || id >= stages.raw.length) throw invalid(RangeError, "id", `a token id in [0, ${stages.raw.length - 1}]`, id);
  if (stages.probs[id] > 0) return null;
  if (stages.raw[id] === -Infinity) return { stage: "raw", reason: "its raw logit is already -Infinity" };
  let before: Float32Array = stages.raw;
  for (const stage of STAGES) {
    const row = stages[stage];
    if (!row) continue;
    if (row[id] === -Infinity) return explain(stage, stages.thresholds?.[stage], before, stages.temperature, id);
    before = row;
  }
  return { stage: "topP", reason: "its probability rounds to 0 in float32" };
}

function explain(stage: StageName, threshold: number | undefined, before: Float32Array, scaled: Float32Array, id: number): Removal {
  const at = (x: number) => x.toPrecision(4);
  switch (stage) {
    case "noRepeatNgramSize":
      return { stage, threshold, reason: `it would repeat a ${threshold}-gram already in the text` };
    case "minNewTokens":
      return { stage, threshold, reason: `<|endoftext|> is blocked until ${threshold} new tokens exist` };
    case "topK":
    case "topP": {
      const value = scaled[id];
      const kept = stage === "topK" ? "the k likeliest" : "the nucleus (the likeliest tokens up to probability topP)";
      return { stage, threshold, value, reason: `its logit ${at(value)} is below ${at(threshold!)}, the lowest of ${kept}` };
    }
    case "typicalP": {
      const probs = softmax(before);
      const value = Math.abs(-Math.log(probs[id]) - entropy(probs));
      return { stage, threshold, value, reason: `its surprise is ${at(value)} nats from the entropy, further than the ${at(threshold!)} typical-p kept` };
    }
    default: {
      const value = softmax(before)[id];
      return { stage, threshold, value, reason: `its probability ${at(value)} is below the cut ${at(threshold!)}` };
    }
  }
}

function lowest(values: Float32Array, ids: Int32Array): number {
  let min = Infinity;
  for (const id of ids) if (values[id] < min) min = values[id];
  return min;
}
