// Tokenizes Tiny Shakespeare with GPT-2's tokenizer for models/shakespeare/train.py: the whole file
// in one piece, the last 10% of tokens held out for validation, written as little-endian uint16 ids
// (train.bin, val.bin) with meta.json (counts, source hash, the report's prompts already encoded) and
// GPT-2's tokenizer files, so training and evaluation need Python only.
// Follows nanoGPT's data/shakespeare/prepare.py; no document boundaries or <|endoftext|> are added.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { END_OF_TEXT_ID, GPT2_VOCAB_SIZE } from "../../lib/config";
import { gpt2Tokenizer } from "../../lib/tokenizer/tokenizer";
import { writeTokenizerFiles } from "../../lib/tokenizer/files";

/** Prompts whose continuations go into report.json and the model card. */
export const REPORT_PROMPTS = ["ROMEO:\n", "First Citizen:\n", "To be, or not to be", "KING"] as const;

export interface TokenizeOptions {
  /** Text file to tokenize (UTF-8). */
  input: string;
  /** Directory for train.bin, val.bin, meta.json and the tokenizer files; created if missing. */
  out: string;
  /** Fraction of tokens, taken from the end, held out for validation; in (0, 1). @default 0.1 */
  valFraction?: number;
}

/** What `tokenizeCorpus` wrote (also saved as meta.json). */
export interface TokenizeSummary {
  input: string;
  inputSha256: string;
  inputBytes: number;
  tokenizer: string;
  totalTokens: number;
  trainTokens: number;
  valTokens: number;
  valFraction: number;
  /** Distinct token ids in train.bin. */
  distinctTrainIds: number;
  format: string;
  prompts: { text: string; ids: number[] }[];
}

/** Tokenizes `input` and writes the split and its description into `out`. */
export function tokenizeCorpus({ input, out, valFraction = 0.1 }: TokenizeOptions): TokenizeSummary {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError(`Expected \`valFraction\` to be a number in (0, 1), got \`${valFraction}\``);
  }
  if (!fs.existsSync(input)) {
    throw new RangeError(`Input text \`${input}\` not found; pass --input PATH (Tiny Shakespeare is input.txt from karpathy/char-rnn)`);
  }
  const bytes = fs.readFileSync(input);
  const tokenizer = gpt2Tokenizer();
  const encode = (text: string): number[] => tokenizer.encode(text).ids;
  // One call over the whole file, as GPT-2 would see it; the split is made on tokens, not text.
  const ids = encode(bytes.toString("utf8"));
  for (const id of ids) {
    if (id >= GPT2_VOCAB_SIZE || id === END_OF_TEXT_ID) {
      throw new RangeError(`Token id ${id} is not an ordinary GPT-2 text token; the input must be plain text`);
    }
  }
  const trainCount = ids.length - Math.round(ids.length * valFraction);
  const train = Uint16Array.from(ids.slice(0, trainCount));
  const val = Uint16Array.from(ids.slice(trainCount));

  fs.mkdirSync(out, { recursive: true });
  writeUint16(path.join(out, "train.bin"), train);
  writeUint16(path.join(out, "val.bin"), val);
  writeTokenizerFiles(out);
  const summary: TokenizeSummary = {
    input: path.resolve(input),
    inputSha256: crypto.createHash("sha256").update(bytes).digest("hex"),
    inputBytes: bytes.length,
    tokenizer: "GPT-2 byte-level BPE (gpt2-lab lib/tokenizer/tokenizer.ts, gpt2Tokenizer())",
    totalTokens: ids.length,
    trainTokens: train.length,
    valTokens: val.length,
    valFraction,
    distinctTrainIds: new Set(train).size,
    format: "uint16 little-endian token ids; val.bin continues where train.bin ends",
    prompts: REPORT_PROMPTS.map((text) => ({ text, ids: encode(text) })),
  };
  fs.writeFileSync(path.join(out, "meta.json"), JSON.stringify(summary, null, 2) + "\n");
  return summary;
}

function writeUint16(file: string, data: Uint16Array): void {
  // Uint16Array uses the platform's byte order; write little-endian explicitly.
  const buffer = Buffer.alloc(data.length * 2);
  data.forEach((id, i) => buffer.writeUInt16LE(id, i * 2));
  fs.writeFileSync(file, buffer);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      input: { type: "string", default: "models/shakespeare/data/tinyshakespeare.txt" },
      out: { type: "string", default: "build/shakespeare" },
      "val-fraction": { type: "string", default: "0.1" },
    },
    strict: true,
  });
  const summary = tokenizeCorpus({ input: values.input, out: values.out, valFraction: Number(values["val-fraction"]) });
  process.stdout.write(
    `${summary.totalTokens} tokens (${summary.trainTokens} train, ${summary.valTokens} val, ` +
      `${summary.distinctTrainIds} distinct train ids) -> ${values.out}\n`,
  );
}

if (require.main === module) main();
