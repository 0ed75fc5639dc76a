// The graph with one onnxruntime MultiHeadAttention per layer (`attention: "fused"`), which the
// benchmark hands transformers.js as the fastest graph it can load: its logits match the
// independent float64 reference on a left-padded batch, as the other graphs' do.
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { loadModel } from "../../lib/model/load";
import { buildGpt2Graph } from "../../lib/onnx/gpt2-graph";
import { writeOnnxModels } from "../../lib/onnx/write-model";
import { openCheckpoint } from "../../lib/weights/checkpoint";
import { makeModel } from "../../lib/weights/make-model";
import { SafetensorsFile } from "../../lib/weights/safetensors";
import { worstAgainstReference } from "../reference/against-reference";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("fused");

test("fused attention's logits match the float64 reference within 1e-4", async () => {
  const dir = path.join(tmp, "tiny");
  const config = makeModel({ shape: "tiny", seed: 9, out: dir });
  const weightsPath = path.join(dir, "model.safetensors");
  const checkpoint = openCheckpoint(weightsPath, config);
  try {
    await writeOnnxModels(path.join(dir, "onnx"), [{ file: "model.onnx", graph: buildGpt2Graph(config, checkpoint, { attention: "fused" }) }], "test");
  } finally {
    checkpoint.close();
  }
  const model = await loadModel(dir, { device: "cpu", onnx: true });
  const weights = SafetensorsFile.open(weightsPath);
  try {
    const worst = await worstAgainstReference(model, (name) => weights.read(name));
    assert.ok(worst < 1e-4 && worst > 0, `max abs difference ${worst}`);
  } finally {
    weights.close();
    await model.dispose();
  }
});
