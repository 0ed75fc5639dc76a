// model.inspect against the independent float64 reference (test/reference), on a random model made
// here with a seed no other test uses: attention weights, the residual stream, each block's writes
// and the logit lens, then the input checks.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { generate } from "../../lib/generate/generate";
import { attribute } from "../../lib/interpret/attribute";
import { configForShape } from "../../lib/config";
import { loadModel } from "../../lib/model/load";
import { convertCheckpoint } from "../../lib/onnx/convert";
import type { Model } from "../../lib/model/model";
import type { Inspection } from "../../lib/inspect/inspect";
import { SafetensorsFile } from "../../lib/weights/safetensors";
import { lensLogits, referencePass, type ReferenceInside } from "../reference/gpt2-reference";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("inspect");
const dir = path.join(tmp, "tiny");
const ids = [2215, 1262, 27140, 10128, 11, 345, 1183, 13];

/** Each position's top lens token at the last layer is the argmax of the model's own logits there. */
async function assertLastLayerIsOutput(model: Model, inspection: Inspection): Promise<Float32Array> {
  const logits = await model.forward([ids]);
  const vocab = model.config.vocab_size;
  ids.forEach((_, t) => {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let best = 0;
    for (let v = 1; v < vocab; v++) if (row[v] > row[best]) best = v;
    assert.equal(inspection.lens[model.config.n_layer][t].id, best, `position ${t}`);
  });
  return logits;
}

/** Softmax in float64. */
function probabilities(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

describe("model.inspect against the float64 reference", () => {
  let model: Model;
  let weights: SafetensorsFile;
  let inspection: Inspection;
  let reference: ReferenceInside;
  const w = (() => {
    const cache = new Map<string, Float32Array>();
    return (name: string) => cache.get(name) ?? cache.set(name, weights.read(name)).get(name)!;
  })();

  before(async () => {
    model = await randomModel({ shape: "tiny", seed: 1313, out: dir });
    weights = SafetensorsFile.open(path.join(dir, "model.safetensors"));
    inspection = await model.inspect(ids, { top: 4, residual: true });
    reference = referencePass(model.config, w, ids);
  });
  after(async () => {
    weights.close();
    await model.dispose();
  });

  test("attention weights match within 1e-5, and keys after the query are exactly 0", () => {
    const { n_layer, n_head } = model.config;
    assert.equal(inspection.attentions.length, n_layer);
    let worst = 0;
    for (let l = 0; l < n_layer; l++) {
      assert.equal(inspection.attentions[l].length, n_head);
      for (let h = 0; h < n_head; h++) {
        for (let q = 0; q < ids.length; q++) {
          const row = inspection.attentions[l][h][q];
          assert.equal(row.length, ids.length);
          for (let k = 0; k < ids.length; k++) {
            if (k > q) assert.equal(row[k], 0, `layer ${l} head ${h}: query ${q} sees key ${k}`);
            worst = Math.max(worst, Math.abs(row[k] - reference.attentions[l][h][q][k]));
          }
        }
      }
    }
    assert.ok(worst < 1e-5 && worst > 0, `max abs difference ${worst}`);
  });

  test("the residual stream and each block's writes match within 1e-4 relative", () => {
    assert.equal(inspection.residual!.length, model.config.n_layer + 1);
    let worst = 0;
    inspection.residual!.forEach((layer, l) =>
      layer.forEach((row, t) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - reference.states[l][t][i]) / (1 + Math.abs(reference.states[l][t][i])))))),
    );
    for (const kind of ["attention", "mlp"] as const) {
      inspection.writes[kind].forEach((layer, l) => layer.forEach((v, t) => (worst = Math.max(worst, Math.abs(v - reference.writes[kind][l][t]) / reference.writes[kind][l][t]))));
    }
    assert.ok(worst < 1e-4, `max relative difference ${worst}`);
  });

  test("the logit lens matches: top tokens equal, probabilities within 1e-4 relative, target ranks equal", () => {
    assert.equal(inspection.lens.length, model.config.n_layer + 1);
    let worst = 0;
    inspection.lens.forEach((layer, l) => {
      assert.equal(layer.length, ids.length);
      layer.forEach((entry, t) => {
        const probs = probabilities(lensLogits(model.config, w, reference.states[l][t]));
        const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
        assert.deepEqual(entry.top.map((e) => e.id), order.slice(0, 4), `layer ${l}, position ${t}`);
        assert.equal(entry.id, order[0]);
        for (const e of entry.top) worst = Math.max(worst, Math.abs(e.prob - probs[e.id]) / probs[e.id]);
        // By default the lens follows the next prompt token, and after the last one the model's choice.
        const target = t + 1 < ids.length ? ids[t + 1] : inspection.next.id;
        assert.equal(entry.target.id, target);
        assert.equal(entry.target.rank, order.indexOf(target));
        worst = Math.max(worst, Math.abs(entry.target.prob - probs[target]) / probs[target]);
      });
    });
    assert.ok(worst < 1e-4, `max relative difference ${worst}`);
  });

  test("the lens's last layer is the model's output", async () => {
    const logits = await assertLastLayerIsOutput(model, inspection);
    const last = logits.subarray((ids.length - 1) * model.config.vocab_size);
    assert.ok(last.every((v, i) => Math.abs(v - inspection.logits[i]) < 1e-4));
    assert.equal(inspection.next.id, inspection.lens[model.config.n_layer][ids.length - 1].id);
  });

  test("a named target is followed at every position, given as an id or as one token's text", async () => {
    const byText = await model.inspect(ids, { target: " the", top: 1 });
    const byId = await model.inspect(ids, { target: 262, top: 1 });
    for (const run of [byText, byId]) assert.ok(run.lens.flat().every((e) => e.target.id === 262 && e.target.text === " the"));
    assert.deepEqual(byText.lens.flat().map((e) => e.target.rank), byId.lens.flat().map((e) => e.target.rank));
    assert.equal(byText.residual, undefined, "the stream is returned only when asked for");
  });

  test("a text prompt is tokenized as generate tokenizes it", async () => {
    const run = await model.inspect("When using LLMs,", { lens: false });
    assert.deepEqual(run.ids, [2215, 1262, 27140, 10128, 11]);
    assert.deepEqual(run.tokens, ["When", " using", " LL", "Ms", ","]);
    assert.deepEqual(run.lens, []);
  });

  test("generate's traceAttention gives, per new token, the attention row of the query that chose it", async () => {
    // Two prompts of different lengths (so the batch is left-padded), two sampled continuations each.
    const prompts = [ids.slice(0, 3), ids];
    const { samples } = await generate(model, prompts, { maxNewTokens: 4, numSamples: 2, doSample: true, seed: 3, traceAttention: true });
    let worst = 0;
    for (const sample of samples) {
      const prompt = prompts[sample.prompt];
      const expected = referencePass(model.config, w, [...prompt, ...sample.ids]).attentions;
      assert.equal(sample.attention!.length, sample.ids.length);
      sample.attention!.forEach((layers, t) => {
        const query = prompt.length - 1 + t;
        layers.forEach((heads, l) =>
          heads.forEach((row, h) => {
            assert.equal(row.length, query + 1, "over the prompt and the tokens before it");
            row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - expected[l][h][query][k]))));
          }),
        );
      });
    }
    assert.ok(worst < 1e-5, `max abs difference ${worst}`);
    const plain = await generate(model, prompts, { maxNewTokens: 4, numSamples: 2, doSample: true, seed: 3 });
    assert.deepEqual(plain.samples.map((s) => s.ids), samples.map((s) => s.ids), "tracing changes no token");
    assert.equal(plain.samples[0].attention, undefined);
  });

  test("bad input names the limit", async () => {
    const long = Array.from({ length: model.config.n_positions + 1 }, () => 13);
    await assert.rejects(model.inspect(long), /129 tokens long but this model's context is 128/);
    await assert.rejects(model.inspect(ids, { top: 0 }), /Expected `top` to be an integer in \[1, 50257\], got `0`/);
    await assert.rejects(model.inspect(ids, { target: " transformers" }), /`target` to be the text of exactly one token \(it is 2 tokens/);
    await assert.rejects(model.inspect([50257]), /an integer in \[0, 50257\)/);
    await assert.rejects(model.inspect(ids, { layers: 2 } as never), /Unknown option `layers`/);
  });
});

describe("model.inspect on the other weight types, and where it cannot run", () => {
  for (const dtype of ["int8", "fp16"] as const) {
    test(`${dtype}: the lens's last layer is that model's own output`, async () => {
      const model = await loadModel(dir, { device: "cpu", dtype });
      try {
        const inspection = await model.inspect(ids, { top: 2 });
        await assertLastLayerIsOutput(model, inspection);
        const sums = inspection.attentions.flat(2).map((row) => row.reduce((a, b) => a + b, 0));
        assert.ok(sums.every((sum) => Math.abs(sum - 1) < (dtype === "fp16" ? 5e-3 : 1e-5)), "every query's weights add up to 1");
      } finally {
        await model.dispose();
      }
    });
  }

  test("a graph that failed to open is opened again on the next call, not remembered as failed", async () => {
    const converted = await convertCheckpoint(path.join(dir, "model.safetensors"), configForShape("tiny"));
    const model = await loadModel(dir, { device: "cpu" });
    try {
      for (const [file, run] of [
        [converted.lens, () => model.inspect(ids, { top: 1 })],
        [converted.intervene!, () => attribute(model, ids)],
      ] as const) {
        fs.renameSync(file, `${file}.aside`);
        try {
          await assert.rejects(run(), `${path.basename(file)} missing`);
        } finally {
          fs.renameSync(`${file}.aside`, file);
        }
        await run();
      }
    } finally {
      await model.dispose();
    }
  });

  test("an ONNX export has no inspection graph: the error says so and how to get one", async () => {
    const exportDir = path.join(tmp, "with-export");
    fs.cpSync(dir, exportDir, { recursive: true });
    const converted = await convertCheckpoint(path.join(dir, "model.safetensors"), configForShape("tiny"));
    fs.mkdirSync(path.join(exportDir, "onnx"));
    for (const file of ["model.onnx", "model.onnx.data"]) fs.copyFileSync(path.join(converted.dir, file), path.join(exportDir, "onnx", file));
    const model = await loadModel(exportDir, { device: "cpu", onnx: true });
    try {
      await assert.rejects(model.inspect(ids), /runs an ONNX export, which has no inspection graph; load it without `onnx: true`/);
    } finally {
      await model.dispose();
    }
  });
});
