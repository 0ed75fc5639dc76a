import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { argmax, entropy, logSoftmax, rankOf, sampleToken, softmax, topN } from "../../lib/sampling/distribution";
import { createRandom } from "../../lib/random";
import { kthLargest } from "../../lib/sampling/select";
import { assertClose, f32, NEG, normalRow } from "./rows";
import { processLogits, validateSamplingOptions } from "../../lib/sampling/pipeline";
import {
  applyTemperature,
  applyTopK,
  applyTopP,
  validateTemperature,
  validateTopK,
  validateTopP,
} from "../../lib/sampling/warpers";

// Golden values are hand-derived (the working is in the comments); the larger checks compare with
// independent references written here: native sorts and a literal transcription of HF's top-p.

describe("applyTemperature", () => {
  test("divides every logit and keeps -Infinity", () => {
    assert.deepEqual(applyTemperature(f32([2, -4, NEG]), 0.5), f32([4, -8, NEG]));
    assert.deepEqual(applyTemperature(f32([2, -4, NEG]), 1), f32([2, -4, NEG]));
  });

  test("1e-6 gives a one-hot on the max, 1e6 a nearly uniform distribution", () => {
    assert.deepEqual(softmax(applyTemperature(f32([1, 3, 2]), 1e-6)), f32([0, 1, 0]));
    assertClose(softmax(applyTemperature(f32([1, 3, 2]), 1e6)), [1 / 3, 1 / 3, 1 / 3], 1e-6);
  });

  test("validates on both sides of 0", () => {
    for (const bad of [0, -1, NaN, Infinity]) {
      assert.throws(() => applyTemperature(f32([1]), bad), { name: "RangeError", message: /`doSample: false`/ });
    }
    assert.throws(() => validateTemperature("1" as unknown as number), TypeError);
    assert.doesNotThrow(() => validateTemperature(1));
    assert.doesNotThrow(() => validateTemperature(1e-6));
  });
});

describe("applyTopK", () => {
  test("keeps the k largest; ties with the k-th all survive", () => {
    assert.deepEqual(applyTopK(f32([1, 3, 0, 2]), 2), f32([NEG, 3, NEG, 2]));
    assert.deepEqual(applyTopK(f32([1, 3, 3, 2, 0]), 2), f32([NEG, 3, 3, NEG, NEG]));
    // The 2nd largest of [5, 1, 1, 1, 0] is 1: all three 1s survive, so 4 tokens remain.
    assert.deepEqual(applyTopK(f32([5, 1, 1, 1, 0]), 2), f32([5, 1, 1, 1, NEG]));
    assert.deepEqual(applyTopK(f32([5, 1, 1, 1, 0]), 1), f32([5, NEG, NEG, NEG, NEG]));
  });

  test("k = 0 and k > vocab change nothing; fewer finite logits than k keeps them all", () => {
    const row = f32([1, 3, 0, 2]);
    assert.deepEqual(applyTopK(row, 0), row);
    assert.deepEqual(applyTopK(row, 4), row);
    assert.deepEqual(applyTopK(row, 50257), row);
    assert.deepEqual(applyTopK(f32([NEG, 1, NEG]), 2), f32([NEG, 1, NEG]));
  });

  test("matches a sorted reference on a GPT-2-sized row", () => {
    const row = normalRow(11, 50257, 3);
    const sorted = row.slice().sort().reverse();
    for (const k of [1, 50, 640, 50256]) {
      const threshold = sorted[k - 1];
      const expected = row.map((x) => (x >= threshold ? x : NEG));
      assert.deepEqual(applyTopK(row, k), expected, `k = ${k}`);
    }
  });

  test("validates: a non-negative integer", () => {
    assert.throws(() => applyTopK(f32([1]), 1.5), {
      name: "RangeError",
      message: "Expected `topK` to be a non-negative integer, got `1.5` (number)",
    });
    for (const bad of [-1, NaN, Infinity]) assert.throws(() => validateTopK(bad), RangeError);
    assert.throws(() => validateTopK("3" as unknown as number), {
      name: "TypeError",
      message: 'Expected `topK` to be a non-negative integer, got `"3"` (string)',
    });
    assert.doesNotThrow(() => validateTopK(0));
    assert.doesNotThrow(() => validateTopK(1));
  });
});

describe("applyTopP", () => {
  // Probabilities by id: [0.3, 0.1, 0.4, 0.2]. Ascending: 0.1 (id 1), 0.2 (id 3), 0.3 (id 0), 0.4 (id 2),
  // running sums 0.1, 0.3, 0.6, 1.0. A token goes when its running sum is <= 1 - p.
  const logits = f32([Math.log(0.3), Math.log(0.1), Math.log(0.4), Math.log(0.2)]);
  const kept = (p: number) => Array.from(applyTopP(logits, p)).flatMap((x, id) => (x > NEG ? [id] : []));

  test("running sum exactly at 1 - p is removed", () => {
    assert.deepEqual(kept(0.9), [0, 2, 3]); // 0.1 <= 0.1: 0.4 + 0.3 + 0.2 = 0.9 is enough
    assert.deepEqual(kept(0.7), [0, 2]); // 0.3 <= 0.3
    assert.deepEqual(kept(0.4), [2]); // 0.6 <= 0.6: the top token alone has 0.4
  });

  test("just past the boundary keeps one more token", () => {
    assert.deepEqual(kept(0.91), [0, 1, 2, 3]); // 0.1 > 0.09
    assert.deepEqual(kept(0.71), [0, 2, 3]); // 0.3 > 0.29
    assert.deepEqual(kept(0.41), [0, 2]); // 0.6 > 0.59
  });

  test("tiny p keeps exactly the most likely token; p = 1 changes nothing", () => {
    assert.deepEqual(kept(1e-9), [2]);
    assert.deepEqual(applyTopP(logits, 1), logits);
    assert.deepEqual(applyTopP(f32([NEG, 2, 2]), 1e-9), f32([NEG, NEG, 2]));
  });

  test("ties are removed lower id first, as a stable ascending sort orders them", () => {
    // Four equal tokens of 0.25: running sums 0.25 (id 0), 0.5 (id 1), 0.75, 1.0; p = 0.5 removes ids 0, 1.
    assert.deepEqual(applyTopP(f32([0, 0, 0, 0]), 0.5), f32([NEG, NEG, 0, 0]));
    assert.deepEqual(applyTopP(f32([0, 0, 0, 0]), 0.1), f32([NEG, NEG, NEG, 0]));
    // -Infinity has probability 0, running sum 0 <= 1 - p: it stays removed and shifts nothing.
    assert.deepEqual(applyTopP(f32([NEG, 1, 1]), 0.5), f32([NEG, NEG, 1]));
  });

  test("matches a literal transcription of HF's TopPLogitsWarper on large rows", () => {
    // Reference: sort ids by (logit, id), softmax in that order, cumsum, remove fround(cum) <= fround(1 - p).
    function reference(row: Float32Array, p: number): Float32Array {
      const ids = Array.from(row, (_, id) => id).sort((a, b) => row[a] - row[b] || a - b);
      const max = row[ids[ids.length - 1]];
      const exps = ids.map((id) => Math.exp(row[id] - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const out = row.slice();
      let cumulative = 0;
      for (let r = 0; r < ids.length - 1; r++) {
        cumulative += exps[r] / sum;
        if (Math.fround(cumulative) <= Math.fround(1 - p)) out[ids[r]] = NEG;
      }
      return out;
    }
    const flat = normalRow(5, 50257, 1);
    const peaked = normalRow(6, 50257, 6);
    const tied = normalRow(7, 50257, 3).map((x) => Math.round(x * 4) / 4); // many exact ties
    for (const [name, row] of Object.entries({ flat, peaked, tied })) {
      for (const p of [0.05, 0.5, 0.9, 0.95]) assert.deepEqual(applyTopP(row, p), reference(row, p), `${name}, p = ${p}`);
    }
  });

  test("validates: (0, 1]", () => {
    for (const bad of [0, -0.1, 1.01, NaN]) assert.throws(() => applyTopP(f32([1]), bad), RangeError);
    assert.throws(() => validateTopP("0.5" as unknown as number), TypeError);
    assert.doesNotThrow(() => validateTopP(1));
    assert.doesNotThrow(() => validateTopP(1e-9));
  });
});

describe("processLogits", () => {
  test("temperature before top-p changes which tokens survive", () => {
    // Probabilities [0.5, 0.3, 0.2], p = 0.6. At temperature 1: running sums 0.2, 0.5, 1.0; only 0.2 <= 0.4
    // goes, two tokens stay. Temperature 0.5 squares them: [0.25, 0.09, 0.04] / 0.38 = [0.658, 0.237, 0.105],
    // running sums 0.105, 0.342 are both <= 0.4, so only the top token stays.
    const logits = f32([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    const stages = processLogits(logits, { temperature: 0.5, topK: 0, topP: 0.6 });
    assert.deepEqual(stages.probs, f32([1, 0, 0]));
    // The other order (top-p, then temperature) keeps two: [0.25, 0.09] / 0.34 = [0.7353, 0.2647].
    const reversed = softmax(applyTemperature(applyTopP(logits, 0.6), 0.5));
    assertClose(reversed, [25 / 34, 9 / 34, 0], 1e-6);
  });

  test("returns every stage as a new array, in HF's order", () => {
    const logits = f32([1, 4, 2, 3, NEG]);
    const stages = processLogits(logits, { temperature: 0.5, topK: 3, topP: 0.5 });
    assert.deepEqual(stages.raw, logits);
    assert.notEqual(stages.raw, logits);
    assert.deepEqual(stages.temperature, f32([2, 8, 4, 6, NEG]));
    assert.deepEqual(stages.topK, f32([NEG, 8, 4, 6, NEG]));
    // softmax of [8, 4, 6] = [0.8668, 0.0159, 0.1173]: 0.8668 alone covers p = 0.5.
    assert.deepEqual(stages.topP, f32([NEG, 8, NEG, NEG, NEG]));
    assert.deepEqual(stages.probs, f32([0, 1, 0, 0, 0]));
  });

  test("defaults follow HF's GenerationConfig: temperature 1, topK 50, topP 1", () => {
    assert.deepEqual(validateSamplingOptions(), {
      ...{ repetitionPenalty: 1, noRepeatNgramSize: 0, minNewTokens: 0, temperature: 1, topK: 50, topP: 1 },
      ...{ minP: 0, typicalP: 1, epsilonCutoff: 0, etaCutoff: 0 },
    });
    const logits = Float32Array.from({ length: 60 }, (_, i) => i);
    const stages = processLogits(logits);
    assert.equal(stages.probs.filter((p) => p > 0).length, 50);
    assert.equal(processLogits(logits, { topK: 0 }).probs.filter((p) => p > 0).length, 60);
  });

  test("validates once, at entry, and rejects unknown keys", () => {
    assert.throws(() => processLogits(f32([1]), { topK: 1.5 }), RangeError);
    assert.throws(() => processLogits(f32([1]), { topP: 0 }), RangeError);
    assert.throws(() => processLogits(f32([1]), { temperature: 0 }), RangeError);
    assert.throws(() => validateSamplingOptions({ topk: 5 } as never), { name: "TypeError", message: /`topk`.*`topK`/ });
    assert.deepEqual(validateSamplingOptions({ topK: 1, topP: 1, temperature: 0.7 }), { ...validateSamplingOptions(), temperature: 0.7, topK: 1 });
  });

  test("topK = 1 then sampling equals greedy (argmax)", () => {
    for (let seed = 0; seed < 20; seed++) {
      const row = normalRow(100 + seed, 1000, 2);
      let best = 0;
      for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
      const { probs } = processLogits(row, { topK: 1, temperature: 0.7 });
      assert.equal(argmax(row), best);
      assert.equal(sampleToken(probs, createRandom(seed)), best);
    }
    // With a tie at the top, HF's topK = 1 keeps both: sampling may pick either, greedy picks the first.
    assert.deepEqual(processLogits(f32([0.5, 2, 2, -1]), { topK: 1 }).probs, f32([0, 0.5, 0.5, 0]));
  });
});

test("no function modifies the caller's array", () => {
  const logits = f32([1, 4, NEG, 2, 3, 3]);
  const before = logits.slice();
  const probs = softmax(logits);
  const probsBefore = probs.slice();
  logSoftmax(logits);
  applyTemperature(logits, 0.5);
  applyTopK(logits, 2);
  applyTopP(logits, 0.5);
  processLogits(logits, { temperature: 0.7, topK: 3, topP: 0.9 });
  argmax(logits);
  rankOf(logits, 1);
  kthLargest(logits, 3);
  topN(probs, 3);
  entropy(probs);
  sampleToken(probs, createRandom(1));
  assert.deepEqual(logits, before);
  assert.deepEqual(probs, probsBefore);
});
