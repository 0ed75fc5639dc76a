// A checkpoint is checked against config.json before anything is sized by the config: a block
// count that the weights do not have is named (instead of the process running out of memory), and
// a tensor holding NaN is named before it is converted.
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { configForShape } from "../../lib/config";
import { countParameters, openCheckpoint, parameterSpecs } from "../../lib/weights/checkpoint";
import { makeModel } from "../../lib/weights/make-model";
import { writeSafetensors } from "../../lib/weights/safetensors";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("checkpoint");
const dir = path.join(tmp, "tiny");
makeModel({ shape: "tiny", seed: 4, out: dir });
const weights = path.join(dir, "model.safetensors");

test("an n_layer the weights do not have is named at once, however large", () => {
  const started = Date.now();
  for (const n_layer of [100_000_000, 3, 1]) {
    assert.throws(() => openCheckpoint(weights, { ...configForShape("tiny"), n_layer }), {
      name: "RangeError",
      message: new RegExp(`config.json says n_layer is ${n_layer}, but .*model.safetensors holds 2 blocks \\(h\\.0 … h\\.1\\)`),
    });
  }
  assert.ok(Date.now() - started < 5000, "checked from the header, not by building the layers");
  openCheckpoint(weights, configForShape("tiny")).close();
});

test("a tensor holding NaN or infinity is named when it is read", () => {
  const config = configForShape("tiny");
  for (const bad of [NaN, Infinity]) {
    const file = path.join(tmp, `bad-${bad}.safetensors`);
    const tensors = parameterSpecs(config).map((spec) => {
      const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1)).fill(0.01);
      if (spec.name === "h.1.mlp.c_fc.weight") data[7] = bad;
      return { name: spec.name, shape: spec.shape, data };
    });
    writeSafetensors(file, tensors);
    const checkpoint = openCheckpoint(file, config);
    assert.throws(() => checkpoint.read(parameterSpecs(config).find((s) => s.name === "h.1.mlp.c_fc.weight")!), {
      message: new RegExp(`tensor \`h\\.1\\.mlp\\.c_fc\\.weight\` holds ${bad} at index 7; the checkpoint is damaged`),
    });
    checkpoint.close();
  }
});

test("parameter counts match the published sizes of the four GPT-2 models, and the listed shapes", () => {
  // transformers' GPT2LMHeadModel.num_parameters() for the released checkpoints.
  const published = { gpt2: 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200 } as const;
  for (const [shape, count] of Object.entries(published)) assert.equal(countParameters(configForShape(shape as keyof typeof published)), count, shape);
  const tiny = configForShape("tiny");
  assert.equal(countParameters(tiny), parameterSpecs(tiny).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0));
});
