import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { argmax, entropy, logSoftmax, rankOf, sampleToken, softmax, topN } from "../../lib/sampling/distribution";
import { createRandom, type Random } from "../../lib/random";
import { kthLargest } from "../../lib/sampling/select";
import { assertClose, f32, NEG, normalRow } from "./rows";
import { processLogits } from "../../lib/sampling/pipeline";

// Golden values are hand-derived (the working is in the comments); the larger checks compare with
// independent references written here: native sorts and a literal transcription of HF's top-p.

/** A `Random` whose uniform draws are scripted, to test the inverse CDF at chosen points. */
function scripted(...draws: number[]): Random {
  return { uniform: () => draws.shift()!, normal: () => 0 };
}

describe("softmax and logSoftmax", () => {
  test("[1, 2, 3] gives e^-2, e^-1, 1 over their sum 1.5032147", () => {
    // e^-2 = 0.1353353, e^-1 = 0.3678794; sum = 1.5032147 → 0.0900306, 0.2447285, 0.6652410.
    assertClose(softmax(f32([1, 2, 3])), [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], 1e-7);
    assertClose(logSoftmax(f32([1, 2, 3])), [-2.4076059644443806, -1.4076059644443804, -0.4076059644443803], 1e-12);
  });

  test("sums to 1 and ignores a constant shift", () => {
    const row = normalRow(3, 1000, 4);
    const sum = softmax(row).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `sum ${sum}`);
    // Shifts that are exact in float32 leave x - max unchanged, so the results are identical.
    assert.deepEqual(softmax(f32([1001, 1002, 1003])), softmax(f32([1, 2, 3])));
    assert.deepEqual(softmax(f32([-7, -6, -5])), softmax(f32([1, 2, 3])));
  });

  test("-Infinity gives exactly 0, and log-probability -Infinity", () => {
    assert.deepEqual(softmax(f32([0, NEG, 0])), f32([0.5, 0, 0.5]));
    assert.deepEqual(Array.from(logSoftmax(f32([0, NEG, 0]))), [-Math.LN2, NEG, -Math.LN2]);
  });

  test("huge and near-equal logits stay finite and correct", () => {
    // [1, 3, 2] / 1e-6: differences of 1e6 make exp underflow to 0 except at the max.
    assert.deepEqual(softmax(f32([1e6, 3e6, 2e6])), f32([0, 1, 0]));
    // [1, 3, 2] * 1e-6: p_i ≈ (1 + x_i - mean) / 3, each within 1e-6 of 1/3, still ordered.
    const near = softmax(f32([1e-6, 3e-6, 2e-6]));
    assertClose(near, [1 / 3, 1 / 3, 1 / 3], 1e-6);
    assert.ok(near[1] > near[2] && near[2] > near[0]);
  });

  test("rejects empty rows, NaN, +Infinity and all -Infinity", () => {
    assert.throws(() => softmax(f32([])), RangeError);
    assert.throws(() => softmax(f32([0, NaN])), { name: "RangeError", message: /NaN at index 1/ });
    assert.throws(() => softmax(f32([0, Infinity])), { name: "RangeError", message: /\+Infinity at index 1/ });
    assert.throws(() => softmax(f32([NEG, NEG])), { name: "RangeError", message: /-Infinity/ });
    assert.throws(() => logSoftmax(f32([NEG])), RangeError);
    assert.throws(() => softmax("abc" as unknown as number[]), TypeError);
  });
});

describe("sampleToken", () => {
  test("inverse CDF at chosen uniforms, never a zero-probability token", () => {
    const probs = f32([0, 0.5, 0, 0.5, 0]);
    assert.equal(sampleToken(probs, scripted(0)), 1);
    assert.equal(sampleToken(probs, scripted(0.49)), 1);
    assert.equal(sampleToken(probs, scripted(0.5)), 3); // cumulative 0.5 is not > 0.5
    assert.equal(sampleToken(probs, scripted(1 - 2 ** -53)), 3);
    // Unnormalised weights [1, 3]: u = 0.25 → target 1, not < 1, so id 1; u = 0.24 → id 0.
    assert.equal(sampleToken([1, 3], scripted(0.25)), 1);
    assert.equal(sampleToken([1, 3], scripted(0.24)), 0);
    // A uniform of exactly 1 (outside [0, 1)) makes the target equal the total, so no running sum
    // exceeds it; the draw must still land on the last positive token, not the trailing 0.
    assert.equal(sampleToken([1, 2, 0], scripted(1 - 2 ** -53)), 1);
    assert.equal(sampleToken([1, 2, 0], scripted(1)), 1);
  });

  test("rejects negative, NaN and all-zero rows", () => {
    assert.throws(() => sampleToken(f32([0.5, -0.1]), scripted(0)), { name: "RangeError", message: /`-0\.1\d*` at index 1/ });
    assert.throws(() => sampleToken(f32([NaN, 1]), scripted(0)), RangeError);
    assert.throws(() => sampleToken(f32([0, 0]), scripted(0)), RangeError);
  });

  test("the same seed gives the same draws; another seed does not", () => {
    const { probs } = processLogits(normalRow(1, 100, 1), { topK: 0 });
    const draws = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 200 }, () => sampleToken(probs, random));
    };
    assert.deepEqual(draws(42), draws(42));
    assert.notDeepEqual(draws(42), draws(43));
  });

  test("20000 seeded draws fit the processed distribution (chi-square, significance 0.001)", () => {
    // Temperature 0.8 then top-k 6 over 8 logits: ids 6 and 7 are removed, the rest are
    // exp(l / 0.8) / sum = exp([2.5, 1.875, 1.25, 0.625, 0, -0.625]) / 25.597 ≈ [0.4759, 0.2548, 0.1364, 0.0730, 0.0391, 0.0209].
    const logits = f32([2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -3.0]);
    const weights = [2.5, 1.875, 1.25, 0.625, 0, -0.625].map(Math.exp);
    const total = weights.reduce((a, b) => a + b, 0);
    const expected = weights.map((w) => w / total);
    assertClose(expected, [0.4759, 0.2548, 0.1364, 0.073, 0.0391, 0.0209], 1e-4);
    const { probs } = processLogits(logits, { temperature: 0.8, topK: 6 });
    assertClose(probs, [...expected, 0, 0], 1e-7);

    const N = 20000;
    const counts = new Array(8).fill(0);
    const random = createRandom(20240601);
    for (let i = 0; i < N; i++) counts[sampleToken(probs, random)]++;
    assert.equal(counts[6] + counts[7], 0);
    const chiSquare = (model: number[]) => model.reduce((sum, p, id) => sum + (counts[id] - N * p) ** 2 / (N * p), 0);
    // 6 categories → 5 degrees of freedom; the 0.999 quantile of chi-square(5) is 20.515 (standard table).
    const CRITICAL_DF5_0_001 = 20.515;
    assert.ok(chiSquare(expected) < CRITICAL_DF5_0_001, `chi-square ${chiSquare(expected)}`);
    // The test has power: the same draws clearly reject a uniform model over those 6 tokens.
    assert.ok(chiSquare(new Array(6).fill(1 / 6)) > CRITICAL_DF5_0_001);
  });
});

describe("argmax, entropy, topN, rankOf, kthLargest", () => {
  test("argmax returns the first maximum", () => {
    assert.equal(argmax(f32([1, 3, 3, 2])), 1);
    assert.equal(argmax(f32([NEG, NEG])), 0);
    assert.equal(argmax([-5, -2, -9]), 1);
    assert.throws(() => argmax(f32([1, NaN])), RangeError);
  });

  test("entropy in nats, 0·log 0 = 0", () => {
    assertClose([entropy(f32([0.25, 0.25, 0.25, 0.25]))], [Math.log(4)], 1e-12);
    assertClose([entropy(f32([0.5, 0.5, 0]))], [Math.LN2], 1e-12);
    assert.equal(entropy(f32([1, 0, 0])), 0);
    assert.throws(() => entropy([0.5, -0.5]), RangeError);
  });

  test("topN sorts descending, ties by id, clamps n", () => {
    assert.deepEqual(topN(f32([0.1, 0.4, 0.2, 0.3]), 2), [
      { id: 1, prob: Math.fround(0.4) },
      { id: 3, prob: Math.fround(0.3) },
    ]);
    assert.deepEqual(topN(f32([0.25, 0.25, 0.5]), 2).map((e) => e.id), [2, 0]);
    assert.deepEqual(topN(f32([0.25, 0.75]), 10).map((e) => e.id), [1, 0]);
    assert.deepEqual(topN(f32([1]), 0), []);
    assert.throws(() => topN(f32([1]), 1.5), RangeError);
    assert.throws(() => topN(f32([1]), "2" as unknown as number), TypeError);
  });

  test("rankOf counts strictly greater values", () => {
    const values = f32([0.1, 0.4, 0.2, 0.4]);
    assert.deepEqual([0, 1, 2, 3].map((id) => rankOf(values, id)), [3, 0, 2, 0]);
    assert.throws(() => rankOf(values, 4), RangeError);
    assert.throws(() => rankOf(values, 1.5), RangeError);
    assert.throws(() => rankOf(values, "1" as unknown as number), TypeError);
  });

  test("kthLargest agrees with a sort, including many duplicates and sorted inputs", () => {
    assert.deepEqual([1, 2, 3, 4].map((k) => kthLargest(f32([5, 1, 5, 3]), k)), [5, 5, 3, 1]);
    const random = createRandom(9);
    for (let n = 1; n <= 120; n++) {
      const values = Array.from({ length: n }, () => Math.floor(random.uniform() * 5));
      const sorted = values.slice().sort((a, b) => b - a);
      for (let k = 1; k <= n; k++) assert.equal(kthLargest(values, k), sorted[k - 1]);
    }
    const ascending = Float32Array.from({ length: 50257 }, (_, i) => i);
    assert.equal(kthLargest(ascending, 50), 50207);
    assert.equal(kthLargest(ascending.slice().reverse(), 50), 50207);
    assert.equal(kthLargest(new Float32Array(50257), 50), 0);
    assert.throws(() => kthLargest(f32([1, 2]), 3), RangeError);
  });
});
