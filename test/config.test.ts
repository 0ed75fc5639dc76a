// parseConfig: config.json's numbers are checked where they enter, naming the file and the field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { configForShape, parseConfig } from "../lib/config";

const tiny = configForShape("tiny");

test("layer_norm_epsilon: a finite positive number, else refused naming the file", () => {
  assert.equal(parseConfig({ ...tiny, layer_norm_epsilon: 1e-5 }, "config.json").layer_norm_epsilon, 1e-5);
  assert.equal(parseConfig({ ...tiny, layer_norm_epsilon: undefined }, "config.json").layer_norm_epsilon, 1e-5);
  // 1e999 is valid JSON, and parses as Infinity.
  const infinite = JSON.parse(JSON.stringify(tiny).replace(/}$/, ',"layer_norm_epsilon":1e999}'));
  for (const eps of [infinite.layer_norm_epsilon, 0, -1e-5, Number.NaN, "1e-5"]) {
    assert.throws(() => parseConfig({ ...tiny, layer_norm_epsilon: eps }, "m/config.json"), {
      name: "RangeError",
      message: new RegExp(`^m/config\\.json: expected \`layer_norm_epsilon\` to be a finite positive number, got \`${String(eps)}\``),
    });
  }
});
