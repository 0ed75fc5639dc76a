// The options of `generate`, their defaults, and their validation, done once where they enter.
// Defaults are Hugging Face's `GenerationConfig` ones (greedy unless `doSample`, top-k 50) so that
// a call reads the same in both; the course's helper passes doSample, topK 40 and temperature 1.
import { expectBoolean, expectFunction, expectInteger, expectNumber, expectOneOf, expectOptions, invalid } from "../checks";
import { MAX_SEED } from "../random";
import { validateCutoffOptions } from "../sampling/cutoffs";
import { validateProcessorOptions } from "../sampling/processors";
import { validateTemperature, validateTopK, validateTopP } from "../sampling/warpers";

/** How much `generate` records per step and sample. */
export type TraceLevel = "none" | "top" | "full";
const TRACE_LEVELS: readonly TraceLevel[] = ["none", "top", "full"];

/** A token as it is produced, for streaming. */
export interface TokenEvent {
  /** Row of the batch (prompt × numSamples + sample). */
  sample: number;
  step: number;
  tokenId: number;
  /** Text that became certain with this token; characters split across tokens arrive whole. */
  text: string;
}

export interface GenerateOptions {
  /** Continuations per prompt, run as one batch. A positive integer. @default 1 */
  numSamples?: number;
  /** Tokens to add to each sample. A positive integer; prompt + maxNewTokens must fit the context. @default 20 */
  maxNewTokens?: number;
  /** Draw each token from the distribution (true) or take the most likely one (false, greedy). @default false */
  doSample?: boolean;
  /** Divides the logits before sampling: < 1 sharpens, > 1 flattens. A finite number > 0. Sampling only. @default 1 */
  temperature?: number;
  /** Keep only the `topK` most likely tokens (ties with the k-th survive); 0 keeps all. Sampling only. @default 50 */
  topK?: number;
  /** Keep the smallest set of likeliest tokens whose probability reaches `topP`; in (0, 1], 1 keeps all. Sampling only. @default 1 */
  topP?: number;
  /** Divides the logit of every token already in the text (prompt included) by this (multiplies it when negative); 1 is off. A finite number > 0. @default 1 */
  repetitionPenalty?: number;
  /** No n-gram of this many tokens may occur twice (prompt included); 0 is off. A non-negative integer. @default 0 */
  noRepeatNgramSize?: number;
  /** `<|endoftext|>` cannot be chosen before this many new tokens. A non-negative integer. @default 0 */
  minNewTokens?: number;
  /** Removes tokens less likely than `minP` × the likeliest one's probability; in [0, 1], 0 is off. Sampling only. @default 0 */
  minP?: number;
  /** Keeps the tokens whose surprise is closest to the entropy, up to probability `typicalP`; in (0, 1], 1 is off. Sampling only. @default 1 */
  typicalP?: number;
  /** Removes tokens with probability below this; in [0, 1), 0 is off. Sampling only. @default 0 */
  epsilonCutoff?: number;
  /** Removes tokens with probability below min(η, √η · e^−entropy); in [0, 1), 0 is off. Sampling only. @default 0 */
  etaCutoff?: number;
  /**
   * Beam search: keep this many hypotheses at every step and return the best (greedy only, as
   * Hugging Face's `num_beams` without `do_sample`). 1 is greedy or sampling. A positive integer.
   * @default 1
   */
  numBeams?: number;
  /**
   * Beam search: a finished hypothesis scores its summed log-probability ÷ (new tokens)^lengthPenalty;
   * above 0 favours longer text (scores are negative), below 0 shorter. A finite number. @default 1
   */
  lengthPenalty?: number;
  /**
   * Beam search: when to stop. `true`: once `numBeams` hypotheses have finished; `false`: also when
   * no running hypothesis can still beat them, estimated from the current length (HF's heuristic);
   * `"never"`: only when none can, given the longest allowed length. @default false
   */
  earlyStopping?: boolean | "never";
  /** Beam search: how many of the best hypotheses to return, at most `numBeams`. @default 1 */
  numReturnSequences?: number;
  /** Seed for the draws: the same seed gives the same samples, each seed its own. An integer from 0 to 4294967295 (2^32 − 1, `MAX_SEED`). @default 0 */
  seed?: number;
  /**
   * Stop a sample once it produces `<|endoftext|>` (the others go on); in beam search, a hypothesis
   * that chooses it is finished (as in Hugging Face's `generate`). @default false, true with `numBeams` > 1
   */
  stopAtEos?: boolean;
  /**
   * What to record per step and sample: `none`; `top` (chosen token, its probability and rank, entropy,
   * the `traceTopN` likeliest tokens: about 1 kB); `full` (also every stage's 50257 values: about
   * 200 kB per array, up to 1 MB per step and sample, so 20 steps × 10 samples ≈ 200 MB). @default "none"
   */
  trace?: TraceLevel;
  /** Alternatives listed per step by `trace`. A positive integer. @default 10 */
  traceTopN?: number;
  /**
   * Record where each new token looked: `sample.attention[step][layer][head]`, the attention weights
   * over the earlier positions of the query that chose `ids[step]`. Taken from one inspection pass
   * over each finished sample (`model.inspect`), which gives the same rows as the steps did: a
   * position's attention does not depend on the tokens after it. @default false
   */
  traceAttention?: boolean;
  /** Checked between steps: aborting stops generation within one step with an AbortError. */
  signal?: AbortSignal;
  /** Called with text as it is produced. */
  onToken?: (event: TokenEvent) => void;
}

const DEFAULTS = {
  numSamples: 1,
  maxNewTokens: 20,
  doSample: false,
  temperature: 1,
  topK: 50,
  topP: 1,
  seed: 0,
  stopAtEos: false,
  trace: "none" as TraceLevel,
  traceTopN: 10,
  traceAttention: false,
  repetitionPenalty: 1,
  noRepeatNgramSize: 0,
  minNewTokens: 0,
  minP: 0,
  typicalP: 1,
  epsilonCutoff: 0,
  etaCutoff: 0,
  numBeams: 1,
  lengthPenalty: 1,
  earlyStopping: false as boolean | "never",
  numReturnSequences: 1,
};
const KNOWN = [...Object.keys(DEFAULTS), "signal", "onToken"];
const SAMPLING_ONLY = ["temperature", "topK", "topP", "minP", "typicalP", "epsilonCutoff", "etaCutoff", "seed"] as const;
const BEAMS_ONLY = ["lengthPenalty", "earlyStopping"] as const;

/** Fills defaults and checks every option; throws naming the option, the value and what is allowed. */
export function validateGenerateOptions(options: GenerateOptions) {
  expectOptions(options, "options", KNOWN);
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  if (options.stopAtEos === undefined && typeof o.numBeams === "number" && o.numBeams > 1) o.stopAtEos = true;
  expectInteger(o.numSamples, "numSamples", 1);
  expectInteger(o.maxNewTokens, "maxNewTokens", 1);
  expectInteger(o.traceTopN, "traceTopN", 1);
  expectBoolean(o.doSample, "doSample");
  expectBoolean(o.stopAtEos, "stopAtEos");
  expectBoolean(o.traceAttention, "traceAttention");
  expectInteger(o.seed, "seed", 0, MAX_SEED);
  expectOneOf(o.trace, "trace", TRACE_LEVELS);
  if (o.onToken !== undefined) expectFunction(o.onToken, "onToken");
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalid(TypeError, "signal", "an AbortSignal (from `new AbortController().signal`)", o.signal);
  }
  validateProcessorOptions(o);
  expectInteger(o.numBeams, "numBeams", 1);
  expectInteger(o.numReturnSequences, "numReturnSequences", 1);
  expectNumber(o.lengthPenalty, "lengthPenalty", "a finite number", Number.isFinite);
  expectOneOf(o.earlyStopping, "earlyStopping", [true, false, "never"]);
  const beams = o.numBeams > 1;
  if (beams && o.doSample) {
    throw new RangeError("Beam sampling (`numBeams` > 1 with `doSample: true`) is not supported; use `doSample: false` for beam search, or `numBeams: 1` to sample");
  }
  if (beams && o.numSamples > 1) {
    throw new RangeError(`Beam search returns its best hypotheses with \`numReturnSequences\`, not \`numSamples\` (got ${o.numSamples}); set \`numReturnSequences\` (at most \`numBeams\`, ${o.numBeams})`);
  }
  if (o.numReturnSequences > o.numBeams) {
    throw new RangeError(
      beams
        ? `Expected \`numReturnSequences\` to be at most \`numBeams\` (${o.numBeams}), got ${o.numReturnSequences}: beam search keeps only \`numBeams\` hypotheses`
        : `Expected \`numReturnSequences\` to be 1 without beam search, got ${o.numReturnSequences}; for several samples use \`numSamples\`, for several hypotheses \`numBeams\``,
    );
  }
  if (beams && o.traceAttention) throw new RangeError("`traceAttention` records one sample's steps; beam search keeps its own tree (`result.beams`) instead: drop one of them");
  // Greedy decoding takes the argmax: sampling options change nothing, so say which were given;
  // likewise the beam options without beams.
  const ignored = [...(o.doSample ? [] : SAMPLING_ONLY), ...(beams ? [] : BEAMS_ONLY)].filter((key) => options[key] !== undefined);
  if (o.doSample) {
    validateTemperature(o.temperature);
    validateTopK(o.topK);
    validateTopP(o.topP);
    validateCutoffOptions(o);
  }
  return { ...o, ignored };
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}
