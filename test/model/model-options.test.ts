import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { configForShape } from "../../lib/config";
import { loadModel } from "../../lib/model/load";
import { type Model, positionsFromMask } from "../../lib/model/model";
import { convertCheckpoint } from "../../lib/onnx/convert";
import { compareLogits } from "../../lib/model/compare-logits";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("options");
const tinyDir = path.join(tmp, "tiny");
const vocab = 50257;

/** Max and mean absolute difference and top-1 agreement over the accuracy prompts. */
async function compare(reference: Model, other: Model) {
  const c = await compareLogits(reference, other);
  return { max: c.maxAbsDiff, mean: c.meanAbsDiff, top1: c.top1Agreement, positions: c.positions };
}

describe("loadModel's dtype option", () => {
  let fp32: Model;
  before(async () => {
    fp32 = await randomModel({ shape: "tiny", seed: 7, out: tinyDir });
  });
  after(() => fp32.dispose());

  test("int8 weights stay close to fp32: max abs diff < 0.3, mean < 0.03, top-1 agreement >= 90%", async () => {
    // Measured on this tiny random model (logits spread over ~7): max 0.098, mean 0.012, 95% agreement.
    const model = await loadModel(tinyDir, { device: "cpu", dtype: "int8" });
    assert.equal(model.dtype, "int8");
    const { max, mean, top1, positions } = await compare(fp32, model);
    await model.dispose();
    assert.ok(positions > 100);
    assert.ok(max < 0.3 && mean < 0.03 && top1 >= 0.9, `max ${max}, mean ${mean}, top-1 ${top1}`);
    assert.ok(max > 0, "identical logits would mean the int8 graph was not used");
  });

  test("the int8 conversion stores about a quarter of the fp32 bytes", async () => {
    const weights = path.join(tinyDir, "model.safetensors");
    const size = async (dtype: "fp32" | "int8") => fs.statSync(path.join((await convertCheckpoint(weights, configForShape("tiny"), { dtype })).dir, "model.onnx.data")).size;
    const ratio = (await size("int8")) / (await size("fp32"));
    // The output head, tied to the embedding, and the block matrices are 8-bit; wpe, biases, LayerNorms stay float32.
    assert.ok(ratio > 0.25 && ratio < 0.3, `ratio ${ratio}`);
  });

  test("fp16 runs (on the CPU too) within float16 rounding of fp32", async () => {
    const model = await loadModel(tinyDir, { device: "cpu", dtype: "fp16" });
    const { max, top1 } = await compare(fp32, model);
    const step = await model.run({ inputIds: [[464]], attentionMask: [[1]], positionIds: [[0]], past: null });
    await model.dispose();
    assert.ok(max < 0.02 && top1 === 1, `max ${max}, top-1 ${top1}`);
    assert.equal(step.present[0].type, "float16", "the cache is kept in float16");
  });

  test("bad dtypes and conflicting options are refused with the fix", async () => {
    await assert.rejects(loadModel(tinyDir, { dtype: "q4" as never }), /Expected `dtype` to be one of 'fp32', 'fp16', 'int8', got `"q4"`/);
    await assert.rejects(loadModel(tinyDir, { dtype: "int8", device: "webgpu" }), /'int8' runs on the CPU only, got device 'webgpu'; use device 'cpu'/);
    await assert.rejects(loadModel(tinyDir, { dtype: "int8", device: "cuda" }), /'int8' runs on the CPU only, got device 'cuda'/);
    await assert.rejects(loadModel(tinyDir, { devise: "cpu" } as never), { name: "TypeError", message: /Unknown option `devise`.*did you mean `device`\?/ });
    await assert.rejects(loadModel(tinyDir, { dtype: "fp16", onnx: true }), /with `onnx: true` the export runs as it is/);
    const auto = await loadModel(tinyDir, { dtype: "int8" });
    assert.equal(auto.device, "cpu", "auto means cpu for int8");
    await auto.dispose();
  });
});

describe("run's logitsToKeep", () => {
  const ids = [2215, 1262, 27140, 10128, 11, 345];
  const attentionMask = [ids.map(() => 1)];
  const positionIds = attentionMask.map(positionsFromMask);

  test("keeps the last positions' logits, equal to the full pass's", async () => {
    const model = await loadModel(tinyDir, { device: "cpu" });
    const full = await model.forward([ids]);
    for (const keep of [1, 2]) {
      const { logits } = await model.run({ inputIds: [ids], attentionMask, positionIds, past: null, logitsToKeep: keep });
      assert.equal(logits.length, keep * vocab);
      const tail = full.subarray((ids.length - keep) * vocab);
      let worst = 0;
      for (let i = 0; i < tail.length; i++) worst = Math.max(worst, Math.abs(tail[i] - logits[i]));
      assert.ok(worst < 1e-5, `keep ${keep}: ${worst}`);
    }
    assert.equal((await model.run({ inputIds: [ids], attentionMask, positionIds, past: null, logitsToKeep: 0 })).logits.length, ids.length * vocab);
    for (const bad of [-1, 1.5, ids.length + 1]) {
      await assert.rejects(model.run({ inputIds: [ids], attentionMask, positionIds, past: null, logitsToKeep: bad }), /Expected `logitsToKeep` to be an integer in \[0, 6\]/);
    }
    await model.dispose();
  });

  test("an export without the logits_to_keep input is sliced to the same shape", async () => {
    const converted = await convertCheckpoint(path.join(tinyDir, "model.safetensors"), configForShape("tiny"));
    const dir = path.join(tmp, "export");
    fs.cpSync(tinyDir, dir, { recursive: true });
    fs.mkdirSync(path.join(dir, "onnx"));
    for (const file of ["model.onnx", "model.onnx.data"]) fs.copyFileSync(path.join(converted.dir, file), path.join(dir, "onnx", file));
    const model = await loadModel(dir, { device: "cpu", onnx: true });
    const full = await model.forward([ids]);
    const { logits } = await model.run({ inputIds: [ids], attentionMask, positionIds, past: null, logitsToKeep: 2 });
    assert.deepEqual(logits, full.slice((ids.length - 2) * vocab));
    await model.dispose();
  });
});
