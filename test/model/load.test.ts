// What loadModel says about model folders that are broken in ways the weights file or config can be:
// invalid JSON named with its file, and a config whose sizes the weights do not have, refused at
// once instead of running out of memory.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { loadModel } from "../../lib/model/load";
import { makeModel } from "../../lib/weights/make-model";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("load");

function brokenCopy(name: string, config: (text: string) => string): string {
  const dir = path.join(tmp, name);
  makeModel({ shape: "tiny", seed: 5, out: dir });
  const file = path.join(dir, "config.json");
  fs.writeFileSync(file, config(fs.readFileSync(file, "utf8")));
  return dir;
}

test("invalid JSON in config.json names the file", async () => {
  const dir = brokenCopy("bad-json", (text) => text.replace("{", "{,"));
  await assert.rejects(loadModel(dir, { device: "cpu" }), { name: "SyntaxError", message: new RegExp(`${path.join(dir, "config.json")}: not valid JSON`) });
});

test("n_layer: 100000000 is refused at once, naming the field and what the weights hold", async () => {
  const dir = brokenCopy("huge", (text) => text.replace('"n_layer": 2', '"n_layer": 100000000'));
  const started = Date.now();
  await assert.rejects(loadModel(dir, { device: "cpu" }), { message: /config.json says n_layer is 100000000, but .*model\.safetensors holds 2 blocks/ });
  assert.ok(Date.now() - started < 10_000);
});
