// The processors and cutoffs on rows small enough to work out by hand (the parity test in
// test/reference compares them with transformers itself), `whyRemoved`, and the bad settings.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { END_OF_TEXT_ID } from "../../lib/config";
import { processLogits, whyRemoved } from "../../lib/sampling/pipeline";
import { bannedByNgrams } from "../../lib/sampling/processors";
import { assertClose } from "./rows";

const kept = (probs: Float32Array) => [...probs.keys()].filter((i) => probs[i] > 0);
const logsOf = (probs: number[]) => probs.map(Math.log);

describe("processors", () => {
  test("repetition penalty: seen positive logits ÷ penalty, seen negative × penalty, once per id", () => {
    const stages = processLogits([2, -2, 1, 0.5], { topK: 0, repetitionPenalty: 2 }, { ids: [0, 1, 1, 0] });
    assert.deepEqual(Array.from(stages.repetitionPenalty!), [1, -4, 1, 0.5]);
  });

  test("no-repeat n-grams: the tokens that followed earlier copies of the last n − 1 tokens", () => {
    // "a b c a b" with n = 3: "a b" was followed by c, so c is banned; with n = 2, "b" was followed by c.
    assert.deepEqual(bannedByNgrams([1, 2, 3, 1, 2], 3), [3]);
    assert.deepEqual(bannedByNgrams([1, 2, 3, 1, 2], 2), [3]);
    assert.deepEqual(bannedByNgrams([1, 2, 1, 4, 1], 2), [2, 4]);
    assert.deepEqual(bannedByNgrams([5, 6], 1), [5, 6]);
    assert.deepEqual(bannedByNgrams([1], 3), []); // too short to complete a 3-gram
    const stages = processLogits([0, 0, 0, 0], { topK: 0, noRepeatNgramSize: 2 }, { ids: [1, 2, 1] });
    assert.deepEqual(kept(stages.probs), [0, 1, 3]);
    assert.deepEqual(whyRemoved(stages, 2)?.stage, "noRepeatNgramSize");
  });

  test("min new tokens: <|endoftext|> removed only before the minimum", () => {
    const logits = new Float32Array(END_OF_TEXT_ID + 1);
    assert.equal(processLogits(logits, { topK: 0, minNewTokens: 2 }, { ids: [1, 2], newTokens: 1 }).probs[END_OF_TEXT_ID], 0);
    assert.ok(processLogits(logits, { topK: 0, minNewTokens: 2 }, { ids: [1, 2], newTokens: 2 }).probs[END_OF_TEXT_ID] > 0);
  });

  test("a processor without the text so far is refused", () => {
    assert.throws(() => processLogits([1, 2], { repetitionPenalty: 1.2 }), /text so far/);
  });
});

describe("cutoffs, worked by hand", () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  test("min-p 0.2 cuts below 0.2 × 0.5 = 0.1: the 0.05 token goes", () => {
    const stages = processLogits(logsOf(probs), { topK: 0, minP: 0.2 });
    assert.deepEqual(kept(stages.probs), [0, 1, 2]);
    assertClose([stages.thresholds.minP!], [0.1], 1e-7);
    const why = whyRemoved(stages, 3)!;
    assert.equal(why.stage, "minP");
    assertClose([why.value!], [0.05], 1e-6);
  });

  test("epsilon 0.2 keeps 0.5 and 0.3; the top token survives any epsilon", () => {
    assert.deepEqual(kept(processLogits(logsOf(probs), { topK: 0, epsilonCutoff: 0.2 }).probs), [0, 1]);
    assert.deepEqual(kept(processLogits(logsOf(probs), { topK: 0, epsilonCutoff: 0.9 }).probs), [0]);
  });

  test("eta: the cut is min(η, √η · e^−H)", () => {
    const h = -probs.reduce((s, p) => s + p * Math.log(p), 0); // 1.1437 nats
    const eta = 0.5;
    const cut = Math.min(eta, Math.sqrt(eta) * Math.exp(-h)); // 0.2255
    const stages = processLogits(logsOf(probs), { topK: 0, etaCutoff: eta });
    assertClose([stages.thresholds.etaCutoff!], [cut], 1e-6);
    assert.deepEqual(kept(stages.probs), [0, 1]);
  });

  test("typical-p: tokens ordered by |−log p − H|, kept until their mass reaches p", () => {
    // H = 1.1437. Gaps: 0.5 → 0.45, 0.3 → 0.06, 0.15 → 0.75, 0.05 → 1.85. Order: 0.3, 0.5, 0.15, 0.05.
    // Running mass 0.3, 0.8: with p = 0.5 the sum reaches it at the 0.5 token, so 0.3 and 0.5 stay.
    assert.deepEqual(kept(processLogits(logsOf(probs), { topK: 0, typicalP: 0.5 }).probs), [0, 1]);
    assert.deepEqual(kept(processLogits(logsOf(probs), { topK: 0, typicalP: 0.25 }).probs), [1]);
    assert.deepEqual(kept(processLogits(logsOf(probs), { topK: 0, typicalP: 0.9 }).probs), [0, 1, 2]);
  });

  test("whyRemoved names top-k with the lowest kept logit, and null for a kept token", () => {
    const stages = processLogits([4, 3, 2, 1], { topK: 2 });
    assert.deepEqual(whyRemoved(stages, 2), { stage: "topK", threshold: 3, value: 2, reason: "its logit 2.000 is below 3.000, the lowest of the k likeliest" });
    assert.equal(whyRemoved(stages, 0), null);
    assert.throws(() => whyRemoved(stages, 4), /`id`.*\[0, 3\]/);
  });
});

describe("bad settings name their limits", () => {
  for (const [options, message] of [
    [{ repetitionPenalty: 0 }, /`repetitionPenalty`.*> 0/],
    [{ repetitionPenalty: -1.2 }, /`repetitionPenalty`.*> 0/],
    [{ minP: 1.5 }, /`minP`.*\[0, 1\]/],
    [{ minP: -0.1 }, /`minP`.*\[0, 1\]/],
    [{ typicalP: 0 }, /`typicalP`.*\(0, 1\]/],
    [{ epsilonCutoff: 1 }, /`epsilonCutoff`.*\[0, 1\)/],
    [{ etaCutoff: -1 }, /`etaCutoff`.*\[0, 1\)/],
    [{ noRepeatNgramSize: 1.5 }, /`noRepeatNgramSize`/],
  ] as const) {
    test(JSON.stringify(options), () => assert.throws(() => processLogits([1, 2], options, { ids: [0] }), { name: "RangeError", message }));
  }
});
