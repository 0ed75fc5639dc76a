import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { configForShape } from "../../lib/config";
import { makeModel } from "../../lib/weights/make-model";
import { convertCheckpoint } from "../../lib/onnx/convert";

const run = promisify(execFile);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gpt2-lab-convert-"));

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
