import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ChoiceSettings, chooseToken } from "../../lib/sampling/choose";
import { argmax, entropy, rankOf, sampleToken, softmax, topN } from "../../lib/sampling/distribution";
import { createRandom } from "../../lib/random";
import { processLogits, validateSamplingOptions } from "../../lib/sampling/pipeline";

// chooseToken works on the ids the filters keep; it must give exactly what the [vocab]-sized stages
// give (processLogits, then sampleToken over the whole row, and the dense topN, entropy and rankOf),
// called directly with the same seeds.
const vocab = 50257;
const text = (id: number) => `<${id}>`;

/** GPT-2-like rows: normal logits, some rows with ties, -Infinity entries and a dominant token. */
function rows(): Float32Array[] {
  const random = createRandom(11);
  const out: Float32Array[] = [];
  for (let r = 0; r < 6; r++) out.push(Float32Array.from({ length: vocab }, () => 3 * random.normal()));
  const ties = Float32Array.from({ length: vocab }, (_, i) => Math.round(4 * Math.sin(i)) / 2); // only 17 distinct values
  const masked = out[0].slice();
  for (let i = 0; i < vocab; i += 3) masked[i] = -Infinity;
  const peaked = out[1].slice();
  peaked[777] = 60; // probability rounds to 1 in float32, every other token to 0
  return [...out, ties, masked, peaked];
}

function settings(overrides: Partial<ChoiceSettings>): ChoiceSettings {
  return { ...validateSamplingOptions({ topK: 40 }), doSample: true, trace: "none", traceTopN: 10, ...overrides };
}

describe("chooseToken on the kept ids equals the full sampling stages", () => {
  test("top-k sampling draws the same tokens with the same probabilities and trace", () => {
    for (const [r, logits] of rows().entries()) {
      for (const temperature of [1, 0.7, 1.3]) {
        for (const topK of [1, 5, 40, 1000]) {
          for (const traceTopN of [3, 10, 60]) {
            const seed = r * 1000 + topK;
            const fast = chooseToken(logits, settings({ temperature, topK, trace: "top", traceTopN }), createRandom(seed), text);
            const stages = processLogits(logits, { temperature, topK, topP: 1 });
            const id = sampleToken(stages.probs, createRandom(seed));
            const label = `row ${r}, temperature ${temperature}, topK ${topK}, traceTopN ${traceTopN}`;
            assert.equal(fast.id, id, label);
            assert.deepEqual(fast.trace, {
              token: { id, text: text(id), prob: stages.probs[id], rank: rankOf(logits, id) },
              entropy: entropy(stages.probs),
              top: topN(stages.probs, traceTopN).map((t) => ({ id: t.id, text: text(t.id), prob: t.prob })),
            }, label);
          }
        }
      }
    }
  });

  test("without a trace, many draws in a row follow the stages' draws", () => {
    const [logits] = rows();
    const a = createRandom(5);
    const b = createRandom(5);
    for (let i = 0; i < 200; i++) {
      const fast = chooseToken(logits, settings({ topK: 50 }), a, text);
      assert.equal(fast.trace, undefined);
      assert.equal(fast.id, sampleToken(processLogits(logits, { topK: 50 }).probs, b));
    }
  });

  test("a traced greedy step gives argmax, the same probabilities and top list, and the entropy within 1e-12", () => {
    for (const [r, logits] of rows().entries()) {
      for (const traceTopN of [1, 10, 30]) {
        const { id, trace } = chooseToken(logits, settings({ doSample: false, trace: "top", traceTopN }), createRandom(0), text);
        const probs = softmax(logits);
        assert.equal(id, argmax(logits), `row ${r}`);
        assert.deepEqual(trace!.token, { id, text: text(id), prob: probs[id], rank: 0 });
        assert.deepEqual(trace!.top, topN(probs, traceTopN).map((t) => ({ id: t.id, text: text(t.id), prob: t.prob })), `row ${r}`);
        // float64 from the logits here, float32 probabilities in `entropy`: equal to ~1e-7 relative.
        assert.ok(Math.abs(trace!.entropy - entropy(probs)) < 1e-5 * Math.max(1, entropy(probs)), `row ${r}: ${trace!.entropy} vs ${entropy(probs)}`);
      }
    }
  });

  test("the greedy entropy is exact on a distribution known by hand", () => {
    // Four equal logits and the rest -Infinity: uniform over 4 tokens, entropy ln 4.
    const logits = new Float32Array(vocab).fill(-Infinity);
    for (const id of [3, 9, 20, 400]) logits[id] = 2.5;
    const { id, trace } = chooseToken(logits, settings({ doSample: false, trace: "top", traceTopN: 2 }), createRandom(0), text);
    assert.equal(id, 3);
    assert.ok(Math.abs(trace!.entropy - Math.log(4)) < 1e-15);
    assert.deepEqual(trace!.top.map((t) => t.id), [3, 9]);
    assert.equal(trace!.token.prob, 0.25);
  });

  test("NaN and +Infinity logits still get the stages' errors", () => {
    const logits = rows()[0].slice();
    logits[100] = NaN;
    assert.throws(() => chooseToken(logits, settings({}), createRandom(0), text), /NaN at index 100/);
    assert.throws(() => chooseToken(logits, settings({ doSample: false, trace: "top" }), createRandom(0), text), /NaN at index 100/);
    logits[100] = Infinity;
    assert.throws(() => chooseToken(logits, settings({}), createRandom(0), text), /\+Infinity at index 100/);
  });
});
