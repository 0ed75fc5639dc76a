// Attribution, ablation, patching and occlusion on a random model of a size no other test uses
// (3 layers, 4 heads, width 32): the attribution adds up to the logit, zero-ablation equals
// Hugging Face's head_mask (transformers itself, as in test/reference), patching reproduces the
// clean and corrupted runs at its ends, and bad input is refused with its limits.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { ablate } from "../../lib/interpret/ablate";
import { attribute } from "../../lib/interpret/attribute";
import { runExperiments, runFull } from "../../lib/interpret/intervene";
import { occlude } from "../../lib/interpret/occlude";
import { patchActivations } from "../../lib/interpret/patch";
import type { Model } from "../../lib/model/model";
import { softmax } from "../../lib/sampling/distribution";
import { askReference, floats, referencePython } from "../reference/python-reference";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("interpret");
const dir = path.join(tmp, "random");
const PROMPT = "The cat sat on the mat because it was";

const largest = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

describe("why this token", () => {
  let model: Model;
  let ids: number[];
  before(async () => {
    model = await randomModel({ shape: "tiny", seed: 26, out: dir, sizes: { n_layer: 3, n_head: 4, n_embd: 32 } });
    ids = model.tokenizer.encode(PROMPT).ids;
  });
  after(() => model.dispose());

  test("the attribution's parts add up to the logit, for the model's own token and for a difference", async () => {
    const own = await attribute(model, PROMPT);
    assert.ok(Math.abs(own.sum - own.logit) <= 1e-4, `sum ${own.sum} against logit ${own.logit}`);
    assert.equal(own.parts.heads.length, 3);
    assert.equal(own.parts.heads[0].length, 4);
    const [logits] = await model.nextTokenLogits(PROMPT);
    assert.ok(Math.abs(own.logit - logits[own.target.id]) <= 1e-4, "the logit is the decoder's");
    const versus = await attribute(model, PROMPT, { target: " the", against: " a" });
    assert.ok(Math.abs(versus.sum - versus.logit) <= 1e-4);
    assert.ok(Math.abs(versus.logit - (logits[versus.target.id] - logits[versus.against!.id])) <= 1e-4);
  });

  test("zero-ablating heads equals Hugging Face's head_mask (within 1e-4)", async () => {
    const cases = [[[0, 1]], [[1, 0], [2, 3]], [[0, 0], [0, 1], [0, 2], [0, 3]], []];
    const python = referencePython();
    const answer = askReference(python, { model: dir, head_masks: cases.map((heads) => ({ ids, heads })) });
    for (const [c, heads] of cases.entries()) {
      const ablated = await ablate(model, ids, { heads: heads.map(([layer, head]) => ({ layer, head })) });
      const expected = floats(answer.head_masks[c]);
      assert.ok(largest(ablated.logits, expected) <= 1e-4, `${JSON.stringify(heads)}: ${largest(ablated.logits, expected)}`);
    }
    // The ablation changes something: the reference's own difference between masked and unmasked.
    assert.ok(largest(floats(answer.head_masks[0]), floats(answer.head_masks[3])) > 1e-3);
  });

  test("the ablated run's attention: the switched-off head's weights are 0, earlier layers as `model.inspect` has them", async () => {
    const result = await ablate(model, PROMPT, { heads: ["1.2"] });
    const inspection = await model.inspect(PROMPT, { lens: false });
    assert.ok(result.attentions[1][2].every((row) => row.every((w) => w === 0)));
    for (let h = 0; h < 4; h++) {
      inspection.attentions[0][h].forEach((row, q) => assert.ok(largest(row, result.attentions[0][h][q]) <= 1e-5, `head 0.${h}, query ${q}`));
    }
    assert.ok(largest(inspection.attentions[1][1][ids.length - 1], result.attentions[1][1][ids.length - 1]) <= 1e-5, "same layer, other head");
  });

  test("ablation by string, MLPs and mean mode run, and `before` is the unablated prediction", async () => {
    const result = await ablate(model, PROMPT, { heads: ["1.2"], mlps: [0], mode: "mean" });
    const [logits] = await model.nextTokenLogits(PROMPT);
    assert.ok(largest(result.before.logits, logits) <= 1e-4);
    assert.ok(largest(result.logits, logits) > 1e-4, "the ablation changed the logits");
  });

  test("patching invariants: everything at layer 0 is the clean run, nothing is the corrupted run", async () => {
    const corrupted = model.tokenizer.encode("The dog sat on the mat because it was").ids;
    assert.equal(corrupted.length, ids.length);
    const { reference } = await runFull(model, ids, [0]);
    const all = ids.map((_, position) => ({ layer: 0, position }));
    const [patchedAll, patchedNone] = await runExperiments(model, corrupted, [{ residualPatch: all }, {}], reference);
    const [clean] = await model.nextTokenLogits(PROMPT);
    const [dirty] = await model.nextTokenLogits("The dog sat on the mat because it was");
    assert.ok(largest(patchedAll, clean) <= 1e-4, `all at layer 0: ${largest(patchedAll, clean)}`);
    assert.ok(largest(patchedNone, dirty) <= 1e-4, `nothing: ${largest(patchedNone, dirty)}`);
    // Every head patched at once gives the clean logits too: heads are all that carries information
    // between positions, and the last token is the same in both prompts.
    const everyHead = Array.from({ length: 3 * 4 }, (_, i) => ({ layer: Math.floor(i / 4), head: i % 4 }));
    const [headsAll] = await runExperiments(model, corrupted, [{ headPatch: everyHead }], reference);
    assert.ok(largest(headsAll, clean) <= 1e-4);
    const grid = await patchActivations(model, PROMPT, "The dog sat on the mat because it was", { target: " the", against: " a", heads: true });
    assert.equal(grid.residual.length, 3);
    assert.equal(grid.residual[0].length, ids.length);
    // Patching the only changed position at layer 0 restores the clean metric.
    assert.ok(Math.abs(grid.residual[0][1] - grid.clean) <= 1e-4);
    // A position after which nothing differs and that is not the changed one leaves the corrupted metric at layer 0.
    assert.ok(Math.abs(grid.residual[0][0] - grid.corrupted) <= 1e-4);
    assert.equal(grid.heads!.length, 3);
    assert.equal(grid.passes, 2 + 3 * ids.length + 12);
  });

  test("occlusion: the target's probability with each token replaced", async () => {
    const result = await occlude(model, PROMPT);
    assert.equal(result.tokens.length, ids.length);
    const replaced = [...ids];
    replaced[2] = 50256;
    const [logits] = await model.nextTokenLogits(model.tokenizer.decode(replaced));
    assert.ok(Math.abs(result.tokens[2].prob - softmax(logits)[result.target.id]) <= 1e-5);
    assert.ok(Math.abs(result.tokens[2].change - (result.tokens[2].prob - result.prob)) <= 1e-7);
  });

  test("bad input names the limit", async () => {
    await assert.rejects(ablate(model, PROMPT, { heads: [{ layer: 3, head: 0 }] }), /`heads\[0\]\.layer`.*\[0, 2\].*3 layers/);
    await assert.rejects(ablate(model, PROMPT, { heads: ["0.4"] }), /`heads\[0\]\.head`.*\[0, 3\].*4 heads/);
    await assert.rejects(ablate(model, PROMPT, { heads: ["zero"] }), /`layer\.head`/);
    await assert.rejects(patchActivations(model, PROMPT, "A dog"), /same number of tokens, got 9 and 2/);
    await assert.rejects(attribute(model, PROMPT, { target: " the cat" }), /`target`.*exactly one token/);
    await assert.rejects(attribute(model, PROMPT, { against: " a dog" }), /`against`.*exactly one token/);
  });
});
