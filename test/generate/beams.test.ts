// Beam search's own invariants on a tiny random model (its results are compared with transformers
// in test/reference/transformers.test.ts): the tree adds up, the cache is reordered in place, the
// options are checked, and the figure draws the tree.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { generate } from "../../lib/generate/generate";
import type { Model } from "../../lib/model/model";
import { beamTreeFigure } from "../../lib/plots/beam-tree";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("beams");

describe("beam search", () => {
  let model: Model;
  before(async () => {
    model = await randomModel({ shape: "tiny", seed: 25, out: path.join(tmp, "tiny") });
  });
  after(() => model.dispose());

  test("each node's running sum is its parent's plus its log-probability, and the best sequence is the tree's", async () => {
    const result = await generate(model, "The cat", { numBeams: 4, maxNewTokens: 40, numReturnSequences: 3 });
    const tree = result.beams![0];
    assert.equal(tree.steps.length, 40);
    tree.steps.forEach((step, t) => {
      assert.equal(step.kept.length, 4);
      for (const node of step.kept) {
        const parentSum = t === 0 ? 0 : tree.steps[t - 1].kept[node.parent].sum;
        assert.ok(Math.abs(parentSum + node.logProb - node.sum) < 1e-4, `step ${t}`);
        assert.ok(node.logProb <= 0);
      }
    });
    // The best returned sequence, read back through its parents, is its ids; its score is sum / length.
    const [best] = result.samples;
    const end = tree.returned[0];
    const ids: number[] = [];
    let index = end.index;
    for (let t = end.step; t >= 0; t--) {
      const node = end.finished && t === end.step ? tree.steps[t].finished[index] : tree.steps[t].kept[index];
      ids.unshift(node.id);
      index = node.parent;
    }
    assert.deepEqual(best.ids, ids);
    const last = end.finished ? tree.steps[end.step].finished[end.index] : tree.steps[end.step].kept[end.index];
    assert.ok(Math.abs(best.score! - last.sum / best.ids.length) < 1e-6);
    assert.ok(result.samples[0].score! >= result.samples[1].score! && result.samples[1].score! >= result.samples[2].score!);
  });

  test("the cache is reordered in place: past the first fold, no step allocates it again", async () => {
    const before = model.memory.cacheAllocations;
    await generate(model, "The cat", { numBeams: 3, maxNewTokens: 80, stopAtEos: false });
    const allocated = model.memory.cacheAllocations - before;
    // The prompt pass's copy to the beams (one per tensor), and the first fold's room (one per tensor).
    const tensors = 2 * model.config.n_layer;
    assert.equal(allocated, 2 * tensors);
  });

  test("numBeams 1 is greedy decoding", async () => {
    const beams = await generate(model, "The cat", { numBeams: 1, maxNewTokens: 10 });
    const greedy = await generate(model, "The cat", { maxNewTokens: 10 });
    assert.deepEqual(beams.samples[0].ids, greedy.samples[0].ids);
  });

  test("bad combinations are refused with their limits", async () => {
    await assert.rejects(generate(model, "a", { numBeams: 0 }), /`numBeams`.*positive integer|`numBeams`.*>= 1/);
    await assert.rejects(generate(model, "a", { numBeams: 2, numReturnSequences: 3 }), /`numReturnSequences` to be at most `numBeams` \(2\), got 3/);
    await assert.rejects(generate(model, "a", { numReturnSequences: 2 }), /`numReturnSequences` to be 1 without beam search/);
    await assert.rejects(generate(model, "a", { numBeams: 2, doSample: true }), /Beam sampling.*not supported/);
    await assert.rejects(generate(model, "a", { numBeams: 2, numSamples: 2 }), /`numReturnSequences`, not `numSamples`/);
    await assert.rejects(generate(model, "a", { numBeams: 2, earlyStopping: "sometimes" as never }), /`earlyStopping`/);
    await assert.rejects(generate(model, "a", { numBeams: 2, lengthPenalty: Infinity }), /`lengthPenalty`.*finite/);
  });

  test("the tree figure: one node per hypothesis, the returned path in colour, token labels at 11 px", async () => {
    const result = await generate(model, "The cat", { numBeams: 4, maxNewTokens: 20 });
    const tree = result.beams![0];
    const figure = beamTreeFigure(tree);
    const nodes = figure.data[2];
    const count = 1 + tree.steps.reduce((n, s) => n + s.kept.length + s.finished.length, 0);
    assert.equal((nodes.x as number[]).length, count);
    // The returned path: one highlighted edge per step.
    const highlighted = (figure.data[1].x as (number | null)[]).filter((x) => x !== null).length / 2;
    assert.equal(highlighted, tree.returned[0].step + 1);
    assert.equal((nodes.textfont as { size: number }).size, 11);
    assert.throws(() => beamTreeFigure({} as never), /result\.beams/);
  });
});
