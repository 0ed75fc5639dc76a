// Long generations on the windowed decoder (the cache stays with the caller, and only the newest
// positions come back from onnxruntime): greedy tokens equal those of the standard graph, which
// returns the whole cache each step, and of a full recomputation; and the cache is allocated once
// per window of positions, not at every step, by the model's own accounting.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { configForShape } from "../../lib/config";
import { generate } from "../../lib/generate/generate";
import { loadModel } from "../../lib/model/load";
import { CACHE_WINDOW, type Model } from "../../lib/model/model";
import { convertCheckpoint } from "../../lib/onnx/convert";
import { makeModel } from "../../lib/weights/make-model";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gpt2-lab-long-"));
process.env.GPT2_LAB_CACHE = path.join(tmp, "cache");
const tinyDir = path.join(tmp, "tiny");
const exportDir = path.join(tmp, "tiny-standard");
const vocab = 50257;
const config = configForShape("tiny");
let windowed: Model;
let standard: Model;

before(async () => {
  makeModel({ shape: "tiny", seed: 21, out: tinyDir });
  // The same weights as the standard graph (model.onnx, Optimum's form), loaded as an export.
  const converted = await convertCheckpoint(path.join(tinyDir, "model.safetensors"), config);
  fs.cpSync(tinyDir, exportDir, { recursive: true });
  fs.mkdirSync(path.join(exportDir, "onnx"));
  for (const file of ["model.onnx", "model.onnx.data"]) fs.copyFileSync(path.join(converted.dir, file), path.join(exportDir, "onnx", file));
  windowed = await loadModel(tinyDir, { device: "cpu" });
  standard = await loadModel(exportDir, { device: "cpu", onnx: true });
});
after(async () => Promise.all([windowed.dispose(), standard.dispose()]));

test("120 greedy tokens, across several windows, equal the standard graph's and a full recomputation's", async () => {
  const prompt = "When using LLMs,";
  const a = await generate(windowed, prompt, { maxNewTokens: 120 });
  const b = await generate(standard, prompt, { maxNewTokens: 120 });
  assert.ok(120 > 3 * CACHE_WINDOW);
  assert.deepEqual(a.samples[0].ids, b.samples[0].ids);
  assert.ok(new Set(a.samples[0].ids).size > 20, "the text keeps changing, so a wrong cache would show");
  const ids = [...a.promptIds[0]];
  for (const [t, expected] of a.samples[0].ids.entries()) {
    if (t % 7 === 0 || t > 110) {
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

test("the cache is allocated once per window, not at every step", async () => {
  const steps = 120;
  const count = async (model: Model) => {
    const before = model.memory.cacheAllocations;
    const { promptIds } = await generate(model, "Hello", { maxNewTokens: steps });
    return { allocations: model.memory.cacheAllocations - before, positions: promptIds[0].length + steps };
  };
  const ours = await count(windowed);
  const perStep = await count(standard);
  const tensors = 2 * config.n_layer;
  // Folding the window in is the only full-length allocation: once per CACHE_WINDOW positions.
  assert.ok(ours.allocations <= Math.ceil(ours.positions / CACHE_WINDOW) * tensors, `${ours.allocations} allocations`);
  assert.ok(perStep.allocations >= steps * tensors, `the standard graph: ${perStep.allocations} allocations, one cache per step`);
});
