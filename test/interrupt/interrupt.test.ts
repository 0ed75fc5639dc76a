// A kernel interrupt stops work in flight: with a SIGINT handler installed, as tslab installs one,
// SIGINT (emitted here, as the ■ button's signal reaches the kernel) ends a generation, an
// inspection and a conversion at their next step, leaves nothing behind, and the model still works.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { configForShape } from "../../lib/config";
import { generate } from "../../lib/generate/generate";
import { interruptible } from "../../lib/interrupt";
import type { Model } from "../../lib/model/model";
import { convertCheckpoint } from "../../lib/onnx/convert";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("interrupt");
const dir = path.join(tmp, "tiny");
const kernelHandler = () => {}; // stands in for tslab's own SIGINT handler
let model: Model;

before(async () => {
  model = await randomModel({ shape: "tiny", seed: 29, out: dir });
  process.on("SIGINT", kernelHandler);
});
after(async () => {
  process.off("SIGINT", kernelHandler);
  await model.dispose();
});

test("SIGINT stops a generation at its next step; the next generation runs", async () => {
  let tokens = 0;
  const running = generate(model, "Hi", {
    maxNewTokens: 100,
    onToken: () => {
      if (++tokens === 3) process.emit("SIGINT");
    },
  });
  await assert.rejects(running, { name: "AbortError", message: "Interrupted: the generation stopped" });
  assert.equal(tokens, 3, "no step after the interrupt");
  assert.equal(process.listenerCount("SIGINT"), 1, "only the kernel's handler is left");
  const { samples } = await generate(model, "Hi", { maxNewTokens: 4 });
  assert.equal(samples[0].ids.length, 4);
});

test("SIGINT stops an inspection between the lens's layers", async () => {
  const running = model.inspect("When using LLMs,");
  setImmediate(() => process.emit("SIGINT"));
  await assert.rejects(running, { name: "AbortError", message: "Interrupted: the inspection stopped" });
  assert.equal((await model.inspect("Hi", { lens: false })).tokens.length, 1);
});

test("SIGINT stops a conversion between two weights, and leaves no folder, finished or partial", async () => {
  const root = path.join(tmp, "convert-cache");
  const running = interruptible("conversion", (signal) => convertCheckpoint(path.join(dir, "model.safetensors"), configForShape("tiny"), { root, signal }));
  setImmediate(() => process.emit("SIGINT"));
  await assert.rejects(running, { name: "AbortError", message: "Interrupted: the conversion stopped" });
  assert.deepEqual(fs.readdirSync(path.join(root, "onnx")), []);
  // Converting again works.
  const converted = await convertCheckpoint(path.join(dir, "model.safetensors"), configForShape("tiny"), { root });
  assert.ok(fs.existsSync(converted.decoder));
});

test("without a SIGINT handler of its own, a process is left to SIGINT's default: nothing is installed", async () => {
  process.off("SIGINT", kernelHandler);
  try {
    let seen = -1;
    await interruptible("work", async () => {
      seen = process.listenerCount("SIGINT");
    });
    assert.equal(seen, 0);
  } finally {
    process.on("SIGINT", kernelHandler);
  }
});
