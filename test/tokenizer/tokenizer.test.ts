import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { createRandom } from "../../lib/random";
import { gpt2Tokenizer, type Encoding } from "../../lib/tokenizer/tokenizer";

// js-tiktoken is an independent GPT-2 BPE (rank-based byte merges, its own copy of the ranks), used as
// the reference. Its type declarations are ES-module-only, so it is required and typed by hand.
const { Tiktoken } = require("js-tiktoken/lite") as {
  Tiktoken: new (ranks: unknown) => { encode(text: string, allowedSpecial?: "all"): number[] };
};
const reference = new Tiktoken(require("js-tiktoken/ranks/gpt2"));

const tokenizer = gpt2Tokenizer();
// Tiny Shakespeare as the repository ships it (models/shakespeare/data/README.md gives its source and hash).
const repo = path.resolve(__dirname, "..", "..", "..");
const shakespeareBytes = fs.readFileSync(path.join(repo, "models", "shakespeare", "data", "tinyshakespeare.txt"));
assert.equal(createHash("sha256").update(shakespeareBytes).digest("hex"), "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed");
const shakespeare = shakespeareBytes.toString("utf8");

/** Independent golden values: the course's, and Hugging Face transformers 4.44 on openai-community/gpt2. */
const GOLDEN: { text: string; ids: number[]; tokens?: string[] }[] = [
  { text: "When using LLMs,", ids: [2215, 1262, 27140, 10128, 11], tokens: ["When", " using", " LL", "Ms", ","] },
  { text: "<|endoftext|>", ids: [50256], tokens: ["<|endoftext|>"] },
  { text: "¡Hola, mundo! ¿Cómo estás?", ids: [126, 94, 39, 5708, 11, 27943, 78, 0, 1587, 123, 34, 10205, 5908, 1556, 40138, 30] },
  {
    text: "👩🏽‍💻✨🚀 — coding time!",
    ids: [41840, 102, 8582, 237, 121, 447, 235, 8582, 240, 119, 26486, 101, 8582, 248, 222, 851, 19617, 640, 0],
  },
  { text: "Merhaba dünya! Nasılsın?", ids: [13102, 5976, 64, 288, 9116, 3281, 64, 0, 22767, 30102, 7278, 30102, 77, 30] },
];

const WORDS = ["the", "The", "don't", "I'm", "we'll", "they've", "you're", "it's", "HE'D", "LLMs", "naïve", "straße", "ﬁne", "Ünïcödé", "'tis", "o'er"];
const CODE = [
  "function f(x) { return x * 2; }", "if (a >= b && c != d) {\n\treturn;\n}", "const xs = [1, 2, 3];", '<div class="x">',
  "SELECT * FROM t WHERE id = 42;", "#include <stdio.h>", "x => x ** 2", "```py\nprint('hi')\n```", "    def __init__(self):\n        pass",
  "a_b-c.d/e\\f", "$$E = mc^2$$", "<|endoftext|>", "<|endoftext", "|>", "...", "?!", "--", "''", '"',
];
const WHITESPACE = ["\n", "\n\n", "\r\n", "\t", "\t\t", "   ", "    \n", " \t \n", "\u00a0", "\u3000", "\u2028", "\u000b\u000c", "\u2003 "];
const EMOJI = ["👨‍👩‍👧‍👦", "🇯🇵", "🇺🇸", "👍🏽", "❤️", "🏳️‍🌈", "🧑‍💻", "🤗"];
// Letters, marks, numbers and symbols from many scripts, the C0/C1 controls and general punctuation.
const RANGES: [number, number][] = [
  [0x0000, 0x001f], [0x0080, 0x00ff], [0x0100, 0x017f], [0x0300, 0x036f], [0x0391, 0x03c9], [0x0410, 0x044f], [0x0621, 0x064a],
  [0x0905, 0x0939], [0x0e01, 0x0e3a], [0x2000, 0x206f], [0x3041, 0x3096], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1d400, 0x1d7ff], [0x1f300, 0x1f64f],
];

/**
 * Seeded varied text: words, numbers, code, whitespace runs, emoji and characters from many scripts.
 * U+0085 and U+FEFF are left out: there JavaScript's `\s` (used by js-tiktoken) and GPT-2's differ.
 */
function variedText(seed: number, length: number): string {
  const random = createRandom(seed);
  const int = (n: number) => Math.floor(random.uniform() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const makers = [
    () => pick(WORDS),
    () => String(int(10 ** (1 + int(9)))),
    () => (random.uniform() * 1000).toFixed(int(5)),
    () => pick(CODE),
    () => pick(WHITESPACE),
    () => pick(EMOJI),
    () => {
      const [lo, hi] = pick(RANGES);
      const codePoints = Array.from({ length: 1 + int(6) }, () => lo + int(hi - lo + 1)).filter((c) => c !== 0x85);
      return String.fromCodePoint(...codePoints);
    },
  ];
  let text = "";
  while (text.length < length) text += pick(makers)() + (random.uniform() < 0.6 ? " " : "");
  return text;
}

/** Offsets tile the text in order, and a token with whole characters covers exactly its own text. */
function assertOffsetsFit(text: string, encoding: Encoding): void {
  let end = 0;
  encoding.offsets.forEach(([start, stop], i) => {
    assert.ok(start <= stop && start <= end && stop >= end, `token ${i} at [${start}, ${stop}) after ${end}`);
    if (!encoding.tokens[i].includes("\uFFFD")) assert.equal(text.slice(start, stop), encoding.tokens[i], `token ${i}`);
    end = stop;
  });
  assert.equal(end, text.length);
}

describe("golden encodings", () => {
  for (const { text, ids, tokens } of GOLDEN) {
    test(JSON.stringify(text), () => {
      const encoding = tokenizer.encode(text);
      assert.deepEqual(encoding.ids, ids);
      if (tokens) assert.deepEqual(encoding.tokens, tokens);
      assert.equal(tokenizer.decode(ids), text);
      assert.deepEqual(tokenizer.explain(text).ids, ids);
    });
  }

  test("offsets are [start, end) string indices, leading space included", () => {
    assert.deepEqual(tokenizer.encode("When using LLMs,").offsets, [[0, 4], [4, 10], [10, 13], [13, 15], [15, 16]]);
    assert.deepEqual(tokenizer.encode("<|endoftext|>").offsets, [[0, 13]]);
  });

  test("a token holding part of a character spans the whole character", () => {
    const text = "x🚀y";
    const { ids, tokens, offsets } = tokenizer.encode(text);
    assert.deepEqual(ids, reference.encode(text));
    assert.equal(tokens[0], "x");
    assert.equal(tokens.at(-1), "y");
    assert.deepEqual(offsets[0], [0, 1]);
    assert.deepEqual(offsets.at(-1), [3, 4]);
    assert.ok(ids.length > 2);
    for (const offset of offsets.slice(1, -1)) assert.deepEqual(offset, [1, 3]);
  });

  test("an empty text has no tokens; an empty prompt is <|endoftext|>", () => {
    assert.deepEqual(tokenizer.encode(""), { ids: [], tokens: [], offsets: [] });
    assert.deepEqual(tokenizer.encodePrompt("").ids, [50256]);
    assert.deepEqual(tokenizer.encodePrompt("When using LLMs,"), tokenizer.encode("When using LLMs,"));
  });

  test("tokenText is the text of one id; decode keeps special tokens", () => {
    assert.equal(tokenizer.tokenText(1262), " using");
    assert.equal(tokenizer.tokenText(0), "!");
    assert.equal(tokenizer.tokenText(50256), "<|endoftext|>");
    assert.equal(tokenizer.decode([2215, 50256, 1262]), "When<|endoftext|> using");
    assert.equal(tokenizer.decode([]), "");
  });
});

describe("round trip decode(encode(s)) === s", () => {
  const cases: [string, string][] = [
    ["emoji with ZWJ, skin tones and flags", "👨‍👩‍👧‍👦 👍🏽 🏳️‍🌈 🇯🇵🇺🇸 🤗"],
    ["combining marks", "e\u0301 n\u0303 Z\u0324\u0354\u0367\u0311a\u0308\u0356 \u0915\u094d\u0937"],
    ["CJK", "漢字かな交じり文、한국어 텍스트。全角　スペース"],
    ["CRLF", "line one\r\nline two\r\n\r\n"],
    ["runs of spaces and tabs", "  a   b\t\tc \t \t d    \t\n   "],
    ["clean-up-prone punctuation", "a , b . c ? d ! e n't f 's g 'm"],
    ["100 kB of varied text", variedText(1, 100_000)],
  ];
  for (const [name, text] of cases) {
    test(name, () => {
      const encoding = tokenizer.encode(text);
      assert.equal(tokenizer.decode(encoding.ids), text);
      assertOffsetsFit(text, encoding);
    });
  }
});

describe("against js-tiktoken's GPT-2 encoding", () => {
  test("the same ids on 120 kB of Shakespeare and generated text", () => {
    const docs = [
      ...Array.from({ length: 30 }, (_, i) => shakespeare.slice(i * 37_000, i * 37_000 + 2_000)),
      ...Array.from({ length: 30 }, (_, i) => variedText(100 + i, 2_000)),
    ];
    assert.ok(docs.reduce((n, d) => n + d.length, 0) >= 100_000);
    for (const [i, doc] of docs.entries()) {
      const encoding = tokenizer.encode(doc);
      assert.deepEqual(encoding.ids, reference.encode(doc, "all"), `document ${i}`);
      assert.equal(tokenizer.decode(encoding.ids), doc, `document ${i}`);
      assertOffsetsFit(doc, encoding);
    }
  });

  // GPT-2's `\s` is Unicode White_Space: U+0085 is whitespace and U+FEFF is not. js-tiktoken uses
  // JavaScript's `\s`, so the expected chunks are written here by hand and each is encoded by it.
  const chunkCases: [string, string[]][] = [
    ["a \u0085b", ["a", " ", "\u0085", "b"]],
    ["x \ufeffy", ["x", " \ufeff", "y"]],
    ["a\ufeff!", ["a", "\ufeff!"]],
  ];
  for (const [text, chunks] of chunkCases) {
    test(`GPT-2's whitespace in ${JSON.stringify(text)}`, () => {
      assert.deepEqual(tokenizer.explain(text).chunks.map((c) => c.text), chunks);
      assert.deepEqual(tokenizer.encode(text).ids, chunks.flatMap((c) => reference.encode(c)));
    });
  }
});

describe("explain", () => {
  test("shows chunks, bytes, byte characters and BPE pieces", () => {
    const { chunks, ids } = tokenizer.explain("Hi 🚀<|endoftext|>");
    assert.deepEqual(chunks.map((c) => c.text), ["Hi", " 🚀", "<|endoftext|>"]);
    assert.deepEqual(chunks[1].bytes, [0x20, 0xf0, 0x9f, 0x9a, 0x80]);
    assert.equal(chunks[1].byteText, "ĠðŁļĢ");
    assert.equal(chunks[1].pieces.join(""), chunks[1].byteText);
    assert.equal(chunks[2].special, true);
    assert.deepEqual(ids, tokenizer.encode("Hi 🚀<|endoftext|>").ids);
  });

  test("its ids equal encode's on varied text", () => {
    const text = variedText(7, 20_000);
    const explanation = tokenizer.explain(text);
    assert.equal(explanation.chunks.map((c) => c.text).join(""), text);
    assert.deepEqual(explanation.ids, tokenizer.encode(text).ids);
  });
});

describe("encodeBatch", () => {
  test("left-pads with 50256 and masks the padding", () => {
    const texts = Object.freeze(["When using LLMs,", "", " using,"]);
    assert.deepEqual(tokenizer.encodeBatch(texts), {
      inputIds: [[2215, 1262, 27140, 10128, 11], [50256, 50256, 50256, 50256, 50256], [50256, 50256, 50256, 1262, 11]],
      attentionMask: [[1, 1, 1, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 1, 1]],
      lengths: [5, 1, 2],
    });
  });

  test("an empty batch is empty", () => {
    assert.deepEqual(tokenizer.encodeBatch([]), { inputIds: [], attentionMask: [], lengths: [] });
  });
});

describe("validation", () => {
  test("text must be a string", () => {
    for (const bad of [123, null, undefined, ["a"]]) {
      assert.throws(() => tokenizer.encode(bad as unknown as string), { name: "TypeError", message: /`text`.*string/ });
      assert.throws(() => tokenizer.encodePrompt(bad as unknown as string), TypeError);
      assert.throws(() => tokenizer.explain(bad as unknown as string), TypeError);
    }
    assert.throws(() => tokenizer.encode(123 as unknown as string), /`123` \(number\)/);
    assert.deepEqual(tokenizer.encode("a").ids, [64]);
  });

  test("texts must be an array of strings", () => {
    assert.throws(() => tokenizer.encodeBatch("abc" as unknown as string[]), { name: "TypeError", message: /`texts`/ });
    assert.throws(() => tokenizer.encodeBatch(["a", 3] as unknown as string[]), { name: "TypeError", message: /`texts\[1\]`.*`3`/ });
    assert.deepEqual(tokenizer.encodeBatch(["a"]).inputIds, [[64]]);
  });

  test("ids must be integers in [0, 50257)", () => {
    for (const bad of [-1, 50257, 1.5, NaN, Infinity]) {
      const message = new RegExp(`\\[0, 50257\\), got \`${String(bad)}\``);
      assert.throws(() => tokenizer.decode([0, bad]), { name: "RangeError", message });
      assert.throws(() => tokenizer.tokenText(bad), { name: "RangeError", message });
    }
    for (const bad of ["5", null, 5n]) {
      assert.throws(() => tokenizer.decode([bad as unknown as number]), { name: "TypeError", message: /`ids\[0\]`/ });
      assert.throws(() => tokenizer.tokenText(bad as unknown as number), TypeError);
    }
    assert.throws(() => tokenizer.decode("abc" as unknown as number[]), { name: "TypeError", message: /`ids`/ });
    assert.equal(tokenizer.decode([0, 50256]), "!<|endoftext|>");
    assert.equal(tokenizer.tokenText(50256), "<|endoftext|>");
  });
});
