import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { configForShape } from "../../lib/config";
import { makeModel } from "../../lib/weights/make-model";
import { loadModel } from "../../lib/model/load";
import { conversionProblem, convertCheckpoint, listConversions } from "../../lib/onnx/convert";
import { scratchFolder } from "../scratch";

const run = promisify(execFile);
const tmp = scratchFolder("convert");

test("two processes converting one checkpoint at once both get the same, complete model", async () => {
  const dir = path.join(tmp, "tiny");
  makeModel({ shape: "tiny", seed: 11, out: dir });
  const root = path.join(tmp, "cache");
  const convert = `require(${JSON.stringify(path.join(__dirname, "..", "..", "lib", "onnx", "convert.js"))})
    .convertCheckpoint(process.argv[1], require(${JSON.stringify(path.join(__dirname, "..", "..", "lib", "config.js"))}).configForShape("tiny"), { root: process.argv[2] })
    .then((c) => console.log(c.dir));`;
  const outputs = await Promise.all([0, 1].map(() => run(process.execPath, ["-e", convert, path.join(dir, "model.safetensors"), root])));
  const [a, b] = outputs.map((o) => o.stdout.trim());
  assert.equal(a, b);
  // Nothing half-written is left beside the finished folder, and a third call reuses it.
  assert.deepEqual(fs.readdirSync(path.dirname(a)), [path.basename(a)]);
  const before = fs.statSync(path.join(a, "model.onnx.data")).mtimeMs;
  const again = await convertCheckpoint(path.join(dir, "model.safetensors"), configForShape("tiny"), { root });
  assert.equal(again.dir, a);
  assert.equal(fs.statSync(path.join(a, "model.onnx.data")).mtimeMs, before);
});

test("a damaged conversion (a truncated data file, a deleted graph) is noticed and converted again", async () => {
  const dir = path.join(tmp, "tiny-damaged");
  makeModel({ shape: "tiny", seed: 12, out: dir });
  const root = path.join(tmp, "cache-damaged");
  const weights = path.join(dir, "model.safetensors");
  const first = await convertCheckpoint(weights, configForShape("tiny"), { root });
  const data = path.join(first.dir, "model.onnx.data");
  const size = fs.statSync(data).size;
  assert.equal(conversionProblem(first.dir), null);
  fs.truncateSync(data, size - 100);
  assert.equal(conversionProblem(first.dir), `model.onnx.data has ${size - 100} bytes instead of ${size}`);
  const rebuilt = await convertCheckpoint(weights, configForShape("tiny"), { root });
  assert.equal(rebuilt.dir, first.dir);
  assert.equal(fs.statSync(data).size, size);
  fs.rmSync(rebuilt.decoder);
  assert.equal(conversionProblem(first.dir), "decoder.onnx is missing");
  // The model loads, from a conversion made again, rather than failing inside onnxruntime.
  process.env.GPT2_LAB_CACHE = root;
  const model = await loadModel(dir, { device: "cpu" });
  assert.equal(fs.existsSync(rebuilt.decoder), true);
  assert.equal((await model.nextTokenLogits("Hi"))[0].length, 50257);
  await model.dispose();
});

test("a conversion killed mid-write leaves a staging folder that `models` lists and the next conversion removes", async () => {
  const dir = path.join(tmp, "tiny-killed");
  makeModel({ shape: "tiny", seed: 13, out: dir });
  const root = path.join(tmp, "cache-killed");
  const onnxDir = path.join(root, "onnx");
  fs.mkdirSync(onnxDir, { recursive: true });
  const convert = `require(${JSON.stringify(path.join(__dirname, "..", "..", "lib", "onnx", "convert.js"))})
    .convertCheckpoint(process.argv[1], require(${JSON.stringify(path.join(__dirname, "..", "..", "lib", "config.js"))}).configForShape("tiny"), { root: process.argv[2] })`;
  // kill -9 as soon as the staging folder appears; try again in the rare case the child finished first.
  let staging: string | undefined;
  for (let attempt = 0; attempt < 5 && !staging; attempt++) {
    fs.rmSync(onnxDir, { recursive: true, force: true });
    fs.mkdirSync(onnxDir, { recursive: true });
    const child = spawn(process.execPath, ["-e", convert, path.join(dir, "model.safetensors"), root], { stdio: "ignore" });
    await new Promise<void>((resolve) => {
      const watcher = fs.watch(onnxDir, () => {
        if (fs.readdirSync(onnxDir).some((name) => name.includes(".partial-"))) {
          child.kill("SIGKILL");
          watcher.close();
          resolve();
        }
      });
      child.on("exit", () => {
        watcher.close();
        resolve();
      });
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on("exit", resolve)));
    if (child.signalCode === "SIGKILL") staging = fs.readdirSync(onnxDir).find((name) => name.includes(".partial-"));
  }
  assert.ok(staging, "the child was killed while it wrote its staging folder");
  assert.deepEqual(listConversions(root).map((c) => [path.basename(c.path), c.state]), [[staging, "interrupted"]]);
  const listed = await run(process.execPath, [path.join(__dirname, "..", "..", "..", "bin", "gpt2-lab.js"), "models"], {
    env: { ...process.env, GPT2_LAB_CACHE: root, HF_HUB_CACHE: path.join(tmp, "empty-hub") },
  });
  assert.match(listed.stdout, new RegExp(`${staging!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}  [\\d.]+ (B|kB|MB)  \\(interrupted conversion; the next conversion removes it\\)`));
  const converted = await convertCheckpoint(path.join(dir, "model.safetensors"), configForShape("tiny"), { root });
  assert.deepEqual(fs.readdirSync(onnxDir), [path.basename(converted.dir)]);
  assert.deepEqual(listConversions(root).map((c) => c.state), ["complete"]);
});
