// make-model never destroys what it did not make: a folder with files is refused without `force`,
// a file is refused as a folder, the Hugging Face cache is off limits, and with `force` a symbolic
// link in the folder is replaced rather than written through.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { makeModel } from "../../lib/weights/make-model";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("make-model");
process.env.HF_HUB_CACHE = path.join(tmp, "hub");

test("a folder that holds files is refused without force, and replaced with it", () => {
  const out = path.join(tmp, "model");
  makeModel({ shape: "tiny", seed: 1, out });
  const first = fs.readFileSync(path.join(out, "model.safetensors"));
  fs.writeFileSync(path.join(out, "notes.txt"), "mine");
  assert.throws(() => makeModel({ shape: "tiny", seed: 2, out }), { message: /model is not empty \(it holds .*\); choose an empty folder, or pass --force/ });
  assert.deepEqual(fs.readFileSync(path.join(out, "model.safetensors")), first, "nothing was overwritten");
  makeModel({ shape: "tiny", seed: 2, out, force: true });
  assert.notDeepEqual(fs.readFileSync(path.join(out, "model.safetensors")), first);
  assert.equal(fs.readFileSync(path.join(out, "notes.txt"), "utf8"), "mine", "other files are left alone");
});

test("`out` naming a file gets a clear error", () => {
  const file = path.join(tmp, "a-file");
  fs.writeFileSync(file, "x");
  assert.throws(() => makeModel({ shape: "tiny", out: file }), { message: /a-file is a file, not a folder/ });
  assert.equal(fs.readFileSync(file, "utf8"), "x");
});

test("the Hugging Face cache is refused, also through a symbolic link, and links are never written through", () => {
  const snapshot = path.join(tmp, "hub", "models--openai-community--gpt2", "snapshots", "abc");
  const blobs = path.join(tmp, "hub", "models--openai-community--gpt2", "blobs");
  fs.mkdirSync(snapshot, { recursive: true });
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(blobs, "cfg"), "the cached config");
  fs.symlinkSync(path.join(blobs, "cfg"), path.join(snapshot, "config.json"));
  assert.throws(() => makeModel({ shape: "tiny", out: snapshot, force: true }), { message: /inside the Hugging Face cache/ });
  const link = path.join(tmp, "link-to-cache");
  fs.symlinkSync(snapshot, link);
  assert.throws(() => makeModel({ shape: "tiny", out: path.join(link, "sub"), force: true }), { message: /inside the Hugging Face cache/ });
  // A link inside an ordinary folder is replaced by the new file; its target is untouched.
  const out = path.join(tmp, "with-link");
  fs.mkdirSync(out);
  fs.symlinkSync(path.join(blobs, "cfg"), path.join(out, "config.json"));
  makeModel({ shape: "tiny", out, force: true });
  assert.equal(fs.readFileSync(path.join(blobs, "cfg"), "utf8"), "the cached config");
  assert.equal(fs.lstatSync(path.join(out, "config.json")).isSymbolicLink(), false);
});
