// Long generations on the windowed decoder (the cache stays with the caller, only the newest
// positions come back from onnxruntime, and attention reads the settled part where it lies): greedy
// tokens equal those of the standard graph, which returns the whole cache each step, and of a full
// recomputation; and the cache is allocated once per generation, by the model's own accounting.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { configForShape } from "../../lib/config";
import { generate } from "../../lib/generate/generate";
import { loadModel } from "../../lib/model/load";
import { CACHE_WINDOW, type Model } from "../../lib/model/model";
import { convertCheckpoint } from "../../lib/onnx/convert";
import { createRandom } from "../../lib/random";
import { makeModel } from "../../lib/weights/make-model";
import { SafetensorsFile, writeSafetensors } from "../../lib/weights/safetensors";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("long");
const modelDir = path.join(tmp, "tiny-1024");
const exportDir = path.join(tmp, "tiny-1024-standard");
const vocab = 50257;
// The tiny shape with GPT-2's context of 1024 positions, so a generation runs through 30 windows.
const config = { ...configForShape("tiny"), n_positions: 1024 };
let windowed: Model;
let standard: Model;

before(async () => {
  const tiny = path.join(tmp, "tiny");
  makeModel({ shape: "tiny", seed: 21, out: tiny });
  const source = SafetensorsFile.open(path.join(tiny, "model.safetensors"));
  const random = createRandom(22);
  const tensors = [...source.tensors.entries()].map(([name, info]) =>
    name === "wpe.weight"
      ? { name, shape: [config.n_positions, config.n_embd], data: Float32Array.from({ length: config.n_positions * config.n_embd }, () => 0.5 * random.normal()) }
      : { name, shape: info.shape, data: source.read(name) },
  );
  fs.cpSync(tiny, modelDir, { recursive: true });
  writeSafetensors(path.join(modelDir, "model.safetensors"), tensors);
  source.close();
  fs.writeFileSync(path.join(modelDir, "config.json"), JSON.stringify(config));
  // The same weights as the standard graph (model.onnx, Optimum's form), loaded as an export.
  const converted = await convertCheckpoint(path.join(modelDir, "model.safetensors"), config);
  fs.cpSync(modelDir, exportDir, { recursive: true });
  fs.mkdirSync(path.join(exportDir, "onnx"));
  for (const file of ["model.onnx", "model.onnx.data"]) fs.copyFileSync(path.join(converted.dir, file), path.join(exportDir, "onnx", file));
  windowed = await loadModel(modelDir, { device: "cpu" });
  standard = await loadModel(exportDir, { device: "cpu", onnx: true });
});
after(async () => Promise.all([windowed.dispose(), standard.dispose()]));

test("960 greedy tokens, through 30 windows, equal the standard graph's and a full recomputation's", async () => {
  const prompt = "When using LLMs,";
  const a = await generate(windowed, prompt, { maxNewTokens: 960 });
  const b = await generate(standard, prompt, { maxNewTokens: 960 });
  assert.ok(960 >= 30 * CACHE_WINDOW);
  assert.deepEqual(a.samples[0].ids, b.samples[0].ids);
  assert.ok(new Set(a.samples[0].ids.slice(-100)).size > 20, "the text keeps changing to the end, so a wrong cache would show");
  const ids = [...a.promptIds[0]];
  for (const [t, expected] of a.samples[0].ids.entries()) {
    if (t % 97 === 0 || t > 955) {
      const logits = await windowed.forward([ids]);
      const last = logits.subarray((ids.length - 1) * vocab, ids.length * vocab);
      assert.equal(expected, last.indexOf(Math.max(...last)), `token ${t}`);
    }
    ids.push(expected);
  }
});

test("left-padded prompts with several samples each decode as each prompt alone, past the window", async () => {
  const prompts = ["Hi", "The quick brown fox jumps over"];
  const together = await generate(windowed, prompts, { numSamples: 2, maxNewTokens: 70 });
  for (const [p, prompt] of prompts.entries()) {
    const alone = await generate(windowed, prompt, { maxNewTokens: 70 });
    for (const sample of together.samples.filter((s) => s.prompt === p)) assert.deepEqual(sample.ids, alone.samples[0].ids, prompt);
  }
});

test("a generation allocates its cache once, and folds each window in place", async () => {
  const steps = 300;
  const count = async (model: Model) => {
    const before = model.memory.cacheAllocations;
    const { promptIds } = await generate(model, "Hello", { maxNewTokens: steps });
    return { allocations: model.memory.cacheAllocations - before, positions: promptIds[0].length + steps };
  };
  const ours = await count(windowed);
  const perStep = await count(standard);
  const tensors = 2 * config.n_layer;
  assert.ok(ours.positions > 9 * CACHE_WINDOW);
  assert.equal(ours.allocations, tensors, "one buffer per cache tensor, for the whole generation");
  assert.ok(perStep.allocations >= steps * tensors, `the standard graph: ${perStep.allocations} allocations, one cache per step`);
});

test("without the generation's length, the room doubles: a few allocations, not one per window", async () => {
  const before = windowed.memory.cacheAllocations;
  let state = null;
  let position = 0;
  const windows = 20;
  for (let step = 0; step < windows * CACHE_WINDOW; step++, position++) {
    const out = await windowed.step({ inputIds: [[(step * 7919) % vocab]], attentionMask: [Array(position + 1).fill(1)], positionIds: [[position]], state, logitsToKeep: 1 });
    state = out.state;
  }
  const allocations = (windowed.memory.cacheAllocations - before) / (2 * config.n_layer);
  // Folds at 32, 64, ..., 640 positions; room for twice the length runs out at 32 (room for 64),
  // 96 (192), 224 (448) and 480 (960): four allocations for twenty windows.
  assert.equal(allocations, 4);
});

test("Model.run leaves the cache it was given as it was", async () => {
  const first = await windowed.run({ inputIds: [[464, 2068, 7586]], attentionMask: [[1, 1, 1]], positionIds: [[0, 1, 2]], past: null });
  const copies = await Promise.all(first.present.map(async (tensor) => Float32Array.from((await tensor.getData()) as Float32Array)));
  const next = { inputIds: [[21831]], attentionMask: [[1, 1, 1, 1]], positionIds: [[3]], past: first.present };
  const a = await windowed.run(next);
  const b = await windowed.run(next);
  assert.deepEqual(a.logits, b.logits);
  for (const [t, tensor] of first.present.entries()) assert.deepEqual(await tensor.getData(), copies[t]);
  assert.equal(a.present[0].dims[2], 4);
});
