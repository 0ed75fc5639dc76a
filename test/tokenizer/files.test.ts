// Tests for lib/tokenizer/files.ts: GPT-2's tokenizer files written and read back, the vocab.json +
// merges.txt form, and the errors of folders whose files are missing or wrong.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { buildGpt2TokenizerJson, writeTokenizerFiles } from "../../lib/tokenizer/files";
import { loadTokenizer } from "../../lib/tokenizer/tokenizer";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("tokenizer-files");

describe("tokenizer files", () => {
  test("tokenizer.json has the Hub's GPT-2 layout", () => {
    const json = buildGpt2TokenizerJson();
    assert.deepEqual(json.added_tokens, [
      { id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ]);
    assert.equal(json.normalizer, null);
    assert.deepEqual(json.pre_tokenizer, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true });
    assert.deepEqual(json.post_processor, { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true });
    assert.deepEqual(json.decoder, { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true });
    const { vocab, merges, ...model } = json.model;
    assert.deepEqual(model, {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
    });
    assert.equal(Object.keys(vocab).length, 50257);
    assert.equal(vocab["Ġthe"], 262);
    assert.equal(vocab["<|endoftext|>"], 50256);
    assert.equal(merges.length, 50000);
    assert.equal(merges[0], "Ġ t");
  });

  test("the shared tokenizer.json cannot be changed", () => {
    const json = buildGpt2TokenizerJson();
    assert.throws(() => {
      (json.model.vocab as Record<string, number>)["Ġthe"] = 1;
    }, TypeError);
    assert.equal(buildGpt2TokenizerJson().model.vocab["Ġthe"], 262);
  });

  test("writeTokenizerFiles writes both files, which loadTokenizer reads", () => {
    const dir = path.join(tmp, "written", "deeper");
    writeTokenizerFiles(dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["tokenizer.json", "tokenizer_config.json"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")), buildGpt2TokenizerJson());
    const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
    assert.equal(config.model_max_length, 1024);
    assert.equal(config.tokenizer_class, "GPT2Tokenizer");
    assert.equal(config.add_prefix_space, false);
    for (const key of ["bos_token", "eos_token", "unk_token"]) assert.equal(config[key], "<|endoftext|>");
    assert.deepEqual(loadTokenizer(dir).encode("When using LLMs,").ids, [2215, 1262, 27140, 10128, 11]);
  });

  test("loadTokenizer needs tokenizer.json, a directory string and GPT-2's tokenizer", () => {
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(empty);
    assert.throws(() => loadTokenizer(empty), /tokenizer\.json.*writeTokenizerFiles/);
    assert.throws(() => loadTokenizer(5 as unknown as string), { name: "TypeError", message: /`dir`/ });
    fs.writeFileSync(path.join(empty, "tokenizer.json"), "{ not json");
    assert.throws(() => loadTokenizer(empty), /tokenizer\.json: not valid JSON/);
    fs.writeFileSync(path.join(empty, "tokenizer.json"), "[]");
    assert.throws(() => loadTokenizer(empty), { name: "TypeError", message: /tokenizer\.json: expected a JSON object/ });
    fs.writeFileSync(path.join(empty, "tokenizer.json"), "{}");
    assert.throws(() => loadTokenizer(empty), /tokenizer\.json: tokenizers\.js cannot read it/);
    const json = buildGpt2TokenizerJson();
    fs.writeFileSync(path.join(empty, "tokenizer.json"), JSON.stringify({ ...json, added_tokens: [] }));
    assert.throws(() => loadTokenizer(empty), { name: "RangeError", message: /not GPT-2's tokenizer/ });
    // A vocabulary of 1,000 tokens and <|endoftext|> = 50256: smaller than the model's 50,257.
    const small = Object.fromEntries(Object.entries(json.model.vocab).slice(0, 1000));
    fs.writeFileSync(path.join(empty, "tokenizer.json"), JSON.stringify({ ...json, model: { ...json.model, vocab: small } }));
    assert.throws(() => loadTokenizer(empty), { name: "RangeError", message: /tokenizer\.json: its vocabulary has 1001 tokens, but the model's has 50257/ });
    fs.writeFileSync(path.join(empty, "tokenizer.json"), JSON.stringify(json));
    assert.deepEqual(loadTokenizer(empty).encode("<|endoftext|>").ids, [50256]);
  });

  test("writeTokenizerFiles needs a directory path", () => {
    assert.throws(() => writeTokenizerFiles(""), { name: "TypeError", message: /`dir`/ });
    assert.throws(() => writeTokenizerFiles(undefined as unknown as string), TypeError);
  });
});
