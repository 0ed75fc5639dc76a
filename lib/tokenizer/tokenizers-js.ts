// The one file that reaches into tokenizers.js (@huggingface/tokenizers) beyond its public API, so that
// a dependency upgrade that moves its internals fails here, loudly, and in its test
// (test/tokenizer/tokenizers-js.test.ts). What is used: the pre-tokenizer's split regex (replaced,
// see GPT2_SPLIT_SOURCE), its byte-to-character table and the BPE model's merge function (read by
// `Tokenizer.explain`). Each tokenizer gets its own instance; nothing global is changed.
import { END_OF_TEXT, END_OF_TEXT_ID, GPT2_VOCAB_SIZE } from "../config";

// tokenizers.js ships a CommonJS build, but its type declarations are ES-module-only and cannot be
// imported from a CommonJS file, so the members used here are typed by hand (see its types/core/*.d.ts).
export const tokenizersJs = require("@huggingface/tokenizers") as {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => HfTokenizer;
  BPE: abstract new (...args: never[]) => { bpe(byteText: string): string[] };
  ByteLevelPreTokenizer: abstract new (...args: never[]) => ByteLevelPreTokenizer;
  ByteLevelDecoder: abstract new (...args: never[]) => object;
};
interface ByteLevelPreTokenizer { add_prefix_space: boolean; use_regex: boolean; pattern: RegExp; byte_encoder: Record<number, string> }
export interface HfTokenizer {
  normalizer: unknown; pre_tokenizer: unknown; model: unknown; decoder: unknown;
  encode(text: string): { ids: number[]; tokens: string[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_added_tokens_decoder(): Map<number, { content: string }>;
}

/**
 * GPT-2's pre-tokenizer regex (OpenAI's encoder.py) with `\s` written as Unicode White_Space, which is
 * what Hugging Face's Rust tokenizers (Oniguruma) and tiktoken match. tokenizers.js uses JavaScript's
 * `\s`, which also matches U+FEFF and misses U+0085, so each tokenizer is given this one instead.
 */
const GPT2_SPLIT_SOURCE =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+" +
  "|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

/** GPT-2's split regex, as a fresh global Unicode RegExp. */
export function gpt2Split(): RegExp {
  return new RegExp(GPT2_SPLIT_SOURCE, "gu");
}

/** A tokenizers.js tokenizer checked to be GPT-2's, with the parts `Tokenizer` uses. */
export interface Gpt2Internals {
  hf: HfTokenizer;
  bpe: { bpe(byteText: string): string[] };
  byteEncoder: Record<number, string>;
  /** Added tokens by text, e.g. `<|endoftext|>` → 50256. */
  specialIds: Map<string, number>;
}

/** The distinct ids of a tokenizer.json: its model's vocabulary and its added tokens. */
function countIds(tokenizerJson: object): number {
  const { model, added_tokens: added } = tokenizerJson as { model?: { vocab?: unknown }; added_tokens?: unknown };
  const vocab = typeof model?.vocab === "object" && model.vocab !== null ? Object.values(model.vocab) : [];
  const addedIds = Array.isArray(added) ? added.map((token) => (token as { id?: unknown })?.id) : [];
  return new Set([...vocab, ...addedIds].filter((id) => Number.isSafeInteger(id))).size;
}

/**
 * Builds a tokenizers.js tokenizer from a parsed tokenizer.json and tokenizer_config.json, checks
 * that it is GPT-2's byte-level BPE with 50257 ids and `<|endoftext|>` = 50256, and gives its
 * pre-tokenizer GPT-2's split regex. `source` names the files in errors.
 */
export function openGpt2Tokenizer(tokenizerJson: object, tokenizerConfig: object, source: string): Gpt2Internals {
  let hf: HfTokenizer;
  try {
    hf = new tokenizersJs.Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (error) {
    throw new Error(`${source}: tokenizers.js cannot read it (${(error as Error).message})`);
  }
  // A vocabulary with fewer ids than the model's output head leaves ids the model can choose that no
  // text decodes to; checked before any text is encoded.
  const vocabSize = countIds(tokenizerJson);
  if (vocabSize < GPT2_VOCAB_SIZE) {
    throw new RangeError(`${source}: its vocabulary has ${vocabSize} tokens, but the model's has ${GPT2_VOCAB_SIZE} (vocab_size); use the model's own tokenizer.json`);
  }
  const { model, pre_tokenizer: pre, normalizer, decoder } = hf;
  const specialIds = new Map([...hf.get_added_tokens_decoder()].map(([id, t]) => [t.content, id]));
  const isGpt2 =
    model instanceof tokenizersJs.BPE &&
    pre instanceof tokenizersJs.ByteLevelPreTokenizer &&
    !pre.add_prefix_space &&
    pre.use_regex &&
    normalizer === null &&
    decoder instanceof tokenizersJs.ByteLevelDecoder &&
    hf.id_to_token(GPT2_VOCAB_SIZE - 1) !== undefined &&
    hf.id_to_token(GPT2_VOCAB_SIZE) === undefined &&
    specialIds.get(END_OF_TEXT) === END_OF_TEXT_ID;
  if (!isGpt2) {
    throw new RangeError(
      `${source}: not GPT-2's tokenizer; expected byte-level BPE without a normalizer or prefix space, ` +
        `${GPT2_VOCAB_SIZE} ids and the added token ${END_OF_TEXT} = ${END_OF_TEXT_ID}`,
    );
  }
  if (!(pre.pattern instanceof RegExp) || typeof pre.byte_encoder !== "object" || typeof model.bpe !== "function") {
    throw new Error(
      "This version of @huggingface/tokenizers no longer has the internals gpt2-lab uses (ByteLevel pre_tokenizer.pattern " +
        "and byte_encoder, BPE.bpe); install the version package.json pins with `npm ci`",
    );
  }
  pre.pattern = gpt2Split();
  return { hf, bpe: model, byteEncoder: pre.byte_encoder, specialIds };
}
