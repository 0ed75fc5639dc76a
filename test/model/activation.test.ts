// GPT-2's activation as the library exposes it (`gelu`, `model.activation`): GELU in its tanh form,
// against values worked out by hand and the float64 reference's own GELU.
import assert from "node:assert/strict";
import { test } from "node:test";
import { gelu } from "../../lib/config";
import { gelu as referenceGelu } from "../reference/gpt2-reference";

test("gelu is the tanh form of GELU: hand-worked values and the reference's", () => {
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): at 0 exactly 0; at 1, tanh(0.7978846·1.044715) =
  // tanh(0.8335624) = 0.6823840, so 0.8411920; at -1, -0.5·(1 - 0.6823840) = -0.1588080.
  assert.equal(gelu(0), 0);
  assert.ok(Math.abs(gelu(1) - 0.841192) < 1e-6, `gelu(1) = ${gelu(1)}`);
  assert.ok(Math.abs(gelu(-1) + 0.158808) < 1e-6, `gelu(-1) = ${gelu(-1)}`);
  for (let x = -6; x <= 6; x += 0.25) assert.ok(Math.abs(gelu(x) - referenceGelu(x)) < 1e-12, `x = ${x}`);
  // Far from 0 it is ReLU: the identity for large x, 0 for very negative x.
  assert.ok(Math.abs(gelu(8) - 8) < 1e-9 && Math.abs(gelu(-8)) < 1e-9);
});
