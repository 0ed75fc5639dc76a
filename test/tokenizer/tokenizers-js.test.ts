// The one use of tokenizers.js internals (lib/tokenizer/tokenizers-js.ts), checked so that an upgrade
// which moves them fails here: GPT-2's split regex, with `\s` as Unicode White_Space (as OpenAI's
// regex runs in Python and in Hugging Face's Rust tokenizers), must be the one in use. The chunks
// below are worked out by hand from that regex; a text's ids must be its chunks' ids in a row.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGpt2TokenizerJson, gpt2TokenizerConfig } from "../../lib/tokenizer/files";
import { gpt2Tokenizer } from "../../lib/tokenizer/tokenizer";
import { tokenizersJs } from "../../lib/tokenizer/tokenizers-js";

// U+0085 is White_Space, which JavaScript's \s misses; U+FEFF is the reverse.
const CASES: [string, string[]][] = [
  // " " then U+0085: a run of white space before a letter gives up its last character to the next chunk.
  ["a \u0085b", ["a", " ", "\u0085", "b"]],
  // U+FEFF is no white space: " ?[^\s\p{L}\p{N}]+" takes it with the space before it.
  ["a \ufeffb", ["a", " \ufeff", "b"]],
  ["x\ufeff\ufeff y", ["x", "\ufeff\ufeff", " y"]],
];

test("GPT-2's split regex is the one in use: each text encodes as its hand-split chunks", () => {
  const tokenizer = gpt2Tokenizer();
  for (const [text, chunks] of CASES) {
    assert.deepEqual(tokenizer.explain(text).chunks.map((c) => c.text), chunks, JSON.stringify(text));
    assert.deepEqual(tokenizer.encode(text).ids, chunks.flatMap((chunk) => tokenizer.encode(chunk).ids), JSON.stringify(text));
  }
});

test("tokenizers.js's own regex splits one of them differently (so the check above can fail)", () => {
  const tokenizer = gpt2Tokenizer();
  const plain = new tokenizersJs.Tokenizer(buildGpt2TokenizerJson(), gpt2TokenizerConfig());
  const differ = CASES.filter(([text]) => JSON.stringify(plain.encode(text).ids) !== JSON.stringify(tokenizer.encode(text).ids));
  assert.ok(differ.length > 0);
});
