// The built-in model against the figures its training recipe computed in PyTorch
// (models/shakespeare/report.json): the loss on a fixed slice of held-out text and the greedy
// continuations, recomputed here through gpt2-lab's own ONNX path.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { BUILTIN_MODELS } from "../../lib/model/builtin";
import { logSoftmax } from "../../lib/sampling/distribution";
import { generate } from "../../lib/generate/generate";
import { loadModel, loadModelOrDefault } from "../../lib/model/load";
import type { Model } from "../../lib/model/model";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("shakespeare");
// No network and an empty Hub cache: whatever loads here loads offline.
process.env.HF_HUB_OFFLINE = "1";
process.env.HF_HUB_CACHE = path.join(tmp, "hub");

const dir = BUILTIN_MODELS.shakespeare;
const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"));

describe("the built-in shakespeare model", () => {
  let model: Model;
  before(async () => {
    model = await loadModel("shakespeare", { device: "cpu" });
  });
  after(() => model.dispose());

  test("its held-out loss matches the training recipe's within 0.01 nats", async () => {
    const { token_ids: ids, window, loss: expected } = report.evaluation.val_slice;
    let total = 0;
    let count = 0;
    for (let start = 0; start < ids.length; start += window) {
      const chunk: number[] = ids.slice(start, start + window);
      const logits = await model.forward([chunk]);
      const vocab = model.config.vocab_size;
      // Each token after the window's first is predicted from the ones before it.
      for (let t = 0; t + 1 < chunk.length; t++) {
        total -= logSoftmax(logits.subarray(t * vocab, (t + 1) * vocab))[chunk[t + 1]];
        count++;
      }
    }
    assert.equal(count, report.evaluation.val_slice.predicted_tokens);
    const loss = total / count;
    assert.ok(Math.abs(loss - expected) < 0.01, `ONNX ${loss} vs PyTorch ${expected}`);
  });

  test("greedy continuations equal PyTorch's token for token", async () => {
    assert.ok(report.greedy.length > 0);
    for (const entry of report.greedy) {
      const { promptIds, samples } = await generate(model, entry.prompt, { maxNewTokens: entry.new_ids.length });
      assert.deepEqual(promptIds[0], entry.prompt_ids, `prompt ${JSON.stringify(entry.prompt)}`);
      assert.deepEqual(samples[0].ids, entry.new_ids, `continuation of ${JSON.stringify(entry.prompt)}`);
    }
  });
});

describe("the default model offline", () => {
  test("falls back to the built-in model and says how to get real GPT-2", async () => {
    const { model, note } = await loadModelOrDefault(undefined, { device: "cpu" });
    assert.equal(model.name, "shakespeare");
    assert.match(note ?? "", /built-in 'shakespeare' model.*npx gpt2-lab download gpt2/);
    await model.dispose();
  });

  test("a model asked for by name is never replaced", async () => {
    await assert.rejects(loadModelOrDefault("gpt2", { device: "cpu" }), /openai-community\/gpt2.*not in the Hugging Face cache.*npx gpt2-lab download gpt2/s);
  });
});
