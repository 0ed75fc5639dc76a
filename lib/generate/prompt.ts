// What `generate` accepts as its prompt, turned into one row of token ids per prompt: a text, a list
// of texts, id rows (as the course builds `x` with the tokenizer), or a left-padded batch from
// `tokenizer.encodeBatch`, whose padding is dropped. An empty text stands for `<|endoftext|>`, the
// token unconditional samples start from; an empty id row is refused instead of guessed.
import { invalid } from "../checks";
import { END_OF_TEXT_ID } from "../config";
import { type BatchEncoding, expectTokenId, type Tokenizer } from "../tokenizer/tokenizer";

/** A text, several texts, token id rows (one per prompt), or a batch from `tokenizer.encodeBatch`. */
export type Prompt = string | readonly string[] | readonly (readonly number[])[] | BatchEncoding;

const EXPECTED = "a string, a non-empty array of strings, an array of token id rows (number[][]) or a batch from `tokenizer.encodeBatch`";

/** The token ids of each prompt. */
export function promptIds(prompt: Prompt, tokenizer: Tokenizer): number[][] {
  if (typeof prompt === "string") return [tokenizer.encodePrompt(prompt).ids];
  if (isBatch(prompt)) return withoutPadding(prompt);
  if (!Array.isArray(prompt) || prompt.length === 0) throw invalid(TypeError, "prompt", EXPECTED, prompt);
  if (prompt.every((p) => typeof p === "string")) return (prompt as string[]).map((text) => tokenizer.encodePrompt(text).ids);
  if (!prompt.every((p) => Array.isArray(p))) throw invalid(TypeError, "prompt", EXPECTED, prompt);
  return (prompt as number[][]).map((ids, i) => checkedIds(ids, `prompt[${i}]`));
}

function isBatch(prompt: unknown): prompt is BatchEncoding {
  return typeof prompt === "object" && prompt !== null && !Array.isArray(prompt) && "inputIds" in prompt && "attentionMask" in prompt;
}

/** The rows of a left-padded batch without their padding. */
function withoutPadding({ inputIds, attentionMask }: BatchEncoding): number[][] {
  if (!Array.isArray(inputIds) || !Array.isArray(attentionMask) || inputIds.length !== attentionMask.length || inputIds.length === 0) {
    throw invalid(TypeError, "prompt", "a batch with as many `attentionMask` rows as `inputIds` rows (at least one)", { inputIds, attentionMask });
  }
  return inputIds.map((row, i) => {
    const mask = attentionMask[i];
    if (!Array.isArray(row) || !Array.isArray(mask) || row.length !== mask.length) {
      throw invalid(RangeError, `prompt.attentionMask[${i}]`, `as long as \`prompt.inputIds[${i}]\` (${row?.length})`, mask);
    }
    return checkedIds(row.filter((_, t) => mask[t] === 1), `prompt.inputIds[${i}]`);
  });
}

/** A copy of a row of token ids, each checked. */
function checkedIds(ids: readonly number[], name: string): number[] {
  if (ids.length === 0) throw invalid(RangeError, name, `at least one token id (for an unprompted sample, [${END_OF_TEXT_ID}], <|endoftext|>)`, ids);
  ids.forEach((id, t) => expectTokenId(id, `${name}[${t}]`));
  return [...ids];
}
