// The logits processors of Hugging Face transformers that look at the text so far, applied before
// the warpers and, unlike them, also under greedy decoding and beam search, in HF's order
// (generation/utils.py `_get_logits_processor`): RepetitionPenaltyLogitsProcessor →
// NoRepeatNGramLogitsProcessor → MinNewTokensLengthLogitsProcessor (generation/logits_process.py).
// The context is one row's own ids, prompt included (a decoder-only model's `input_ids`); left
// padding is not part of it, where HF would also penalise the padding token.
import { expectInteger, expectNumber } from "../checks";
import { END_OF_TEXT_ID } from "../config";

/** The processors' settings, with Hugging Face's defaults (each off). */
export interface ProcessorOptions {
  /**
   * Makes every token already in the text (prompt included) less likely: its logit is divided by
   * the penalty when positive and multiplied by it when negative. 1 turns it off; HF's paper
   * (CTRL) suggests 1.2. A finite number > 0 (below 1 rewards repetition instead).
   * @default 1
   */
  repetitionPenalty?: number;
  /**
   * Forbids any n-gram of this many tokens from occurring twice: a token that would complete an
   * n-gram already in the text (prompt included) is removed. 0 turns it off. A non-negative integer.
   * @default 0
   */
  noRepeatNgramSize?: number;
  /** `<|endoftext|>` is removed until this many new tokens exist. A non-negative integer. @default 0 */
  minNewTokens?: number;
}

/** The processor stages, in the order they run. */
export const PROCESSOR_STAGES = ["repetitionPenalty", "noRepeatNgramSize", "minNewTokens"] as const;
export type ProcessorStage = (typeof PROCESSOR_STAGES)[number];

/** The text one row has so far: its ids (prompt and new tokens) and how many of them are new. */
export interface TextSoFar {
  ids: ArrayLike<number>;
  newTokens: number;
}

/** Checks the processors' settings and fills in the defaults. */
export function validateProcessorOptions({ repetitionPenalty = 1, noRepeatNgramSize = 0, minNewTokens = 0 }: ProcessorOptions): Required<ProcessorOptions> {
  expectNumber(repetitionPenalty, "repetitionPenalty", "a finite number > 0 (1 turns it off)", (x) => x > 0 && x < Infinity);
  expectInteger(noRepeatNgramSize, "noRepeatNgramSize", 0);
  expectInteger(minNewTokens, "minNewTokens", 0);
  return { repetitionPenalty, noRepeatNgramSize, minNewTokens };
}

/** Whether any processor would change a row. */
export function processorsActive(o: Required<ProcessorOptions>): boolean {
  return o.repetitionPenalty !== 1 || o.noRepeatNgramSize > 0 || o.minNewTokens > 0;
}

/**
 * Runs the active processors on `row` in place, in HF's order. `onStage`, when given, sees the row
 * after each active stage (to copy it for a trace).
 */
export function applyProcessors(row: Float32Array, text: TextSoFar, o: Required<ProcessorOptions>, onStage?: (stage: ProcessorStage) => void): void {
  if (o.repetitionPenalty !== 1) {
    penaliseRepeats(row, text.ids, o.repetitionPenalty);
    onStage?.("repetitionPenalty");
  }
  if (o.noRepeatNgramSize > 0) {
    for (const id of bannedByNgrams(text.ids, o.noRepeatNgramSize)) row[id] = -Infinity;
    onStage?.("noRepeatNgramSize");
  }
  if (o.minNewTokens > 0) {
    if (text.newTokens < o.minNewTokens) row[END_OF_TEXT_ID] = -Infinity;
    onStage?.("minNewTokens");
  }
}

/** HF's repetition penalty: each distinct id of the context once, negative scores × penalty, the rest ÷ penalty. */
function penaliseRepeats(row: Float32Array, ids: ArrayLike<number>, penalty: number): void {
  const seen = new Set<number>();
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (seen.has(id)) continue;
    seen.add(id);
    const x = row[id];
    row[id] = x < 0 ? x * penalty : x / penalty;
  }
}

/**
 * The tokens that would complete an n-gram the context already holds: every token that followed
 * an earlier occurrence of the context's last n − 1 tokens. None before the context has n − 1 tokens.
 */
export function bannedByNgrams(ids: ArrayLike<number>, n: number): number[] {
  const length = ids.length;
  if (length + 1 < n) return [];
  const banned: number[] = [];
  const start = length - (n - 1); // where the last n − 1 tokens begin
  for (let i = 0; i + n <= length; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = ids[i + j] === ids[start + j];
    if (same) banned.push(ids[i + n - 1]);
  }
  return banned;
}
