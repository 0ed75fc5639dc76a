// The library's shape, checked: no import cycles (found by madge, on the compiled modules), the
// decoding loop free of onnxruntime, a public surface small enough to list, every name of it listed
// in the README, and no process-wide state changed by importing the library and choosing a device.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as ort from "onnxruntime-node";

const madge = require("madge") as (root: string, config: object) => Promise<{ obj(): Record<string, string[]>; circular(): string[][] }>;
const lib = path.join(__dirname, "..", "lib");
const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");

test("lib has no import cycles", async () => {
  const graph = await madge(lib, { fileExtensions: ["js"] });
  const modules = graph.obj();
  // The graph is really there: the entry point and the loop's edges to the model and the sampler.
  assert.ok(Object.keys(modules).length > 30, `madge read ${Object.keys(modules).length} modules`);
  assert.ok(modules["index.js"].includes("generate/generate.js"));
  assert.ok(modules["generate/generate.js"].includes("sampling/choose.js"));
  assert.deepEqual(graph.circular(), []);
});

test("the decoding loop uses the model's methods, not onnxruntime", async () => {
  const graph = await madge(lib, { fileExtensions: ["js"], includeNpm: true });
  for (const [module, imports] of Object.entries(graph.obj())) {
    if (!module.startsWith("generate/")) continue;
    assert.ok(!imports.some((dep) => dep.includes("onnxruntime")), `${module} imports ${imports.join(", ")}`);
  }
});

test("the public surface has at most 50 names at run time, each listed in the README", () => {
  const names = Object.keys(require("../lib/index"));
  assert.ok(names.length >= 20 && names.length <= 50, `${names.length} names: ${names.join(", ")}`);
  const unlisted = names.filter((name) => !readme.includes(`| \`${name}\``));
  assert.deepEqual(unlisted, [], "names missing from the README's table of the public surface");
});

test("importing the library and choosing a device change no process-wide setting", async () => {
  const before = ort.env.logLevel;
  const { loadModel } = require("../lib/index");
  assert.equal(typeof loadModel, "function");
  const { chooseDevice } = require("../lib/model/device");
  await chooseDevice("auto");
  assert.equal(ort.env.logLevel, before);
});
