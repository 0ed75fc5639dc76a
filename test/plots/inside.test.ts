// The figures of the inside of the model, checked as plain objects on small hand-made inspections:
// every selector entry carries the weights it claims, blanks sit where a token could not look, and
// layer, head and position out of range are refused with the limit.
import assert from "node:assert/strict";
import { test } from "node:test";
import { configForShape } from "../../lib/config";
import type { LensEntry } from "../../lib/inspect/inspect";
import { architectureFigure } from "../../lib/plots/architecture";
import { attentionFigure, lookedAtFigure } from "../../lib/plots/attention";
import { logitLensFigure } from "../../lib/plots/lens";

const tokens = ["A", " b", "c"];
// 2 layers × 2 heads over 3 tokens; weight rows of head (l, h) start with l + h / 10 to tell them apart.
const attentions = [0, 1].map((l) =>
  [0, 1].map((h) => {
    const a = (l + 1) / 4 + h / 10;
    return [Float32Array.of(1, 0, 0), Float32Array.of(a, 1 - a, 0), Float32Array.of(a / 2, a / 2, 1 - a)];
  }),
);
// Weights as the figure holds them: four decimals, and keys after the query blank (masked).
const asMatrix = (rows: Float32Array[]) => rows.map((r, q) => Array.from(r, (v, k) => (k > q ? null : Math.round(v * 1e4) / 1e4)));

test("architecture: the sizes of the loaded config, gpt2-xl's as published", () => {
  const figure = architectureFigure(configForShape("gpt2-xl"));
  assert.equal(figure.layout.title!.text, "GPT-2 with 48 blocks<br><sub>25 heads, 1,600 wide, 6,400 in the MLP, 50,257 outputs</sub>");
  const texts = figure.layout.annotations!.map((a) => a.text as string);
  assert.ok(texts.includes("<b>× 48</b> blocks"));
  assert.ok(texts.includes("masked multi-head attention  25 heads × 64"));
  assert.ok(texts.includes("MLP  1,600 → 6,400 → GELU → 1,600"));
  assert.ok(texts.some((t) => /auto-regressive/.test(t)));
  const tiny = architectureFigure(configForShape("tiny"));
  assert.match(tiny.layout.title!.text, /^GPT-2 with 2 blocks<br><sub>4 heads, 64 wide, 256 in the MLP/);
});

test("attention, one head: the menu lists every layer and head, each entry with that head's weights", () => {
  const figure = attentionFigure({ tokens, attentions }, { layer: 1, head: 0 });
  assert.deepEqual(figure.data[0].z, asMatrix(attentions[1][0]));
  assert.deepEqual(figure.data[0].x, ["0: A", "1: ␣b", "2: c"]);
  const [menu] = figure.layout.updatemenus as { active: number; buttons: { label: string; args: [{ z: number[][][] }] }[] }[];
  assert.deepEqual(menu.buttons.map((b) => b.label), ["layer 0 · head 0", "layer 0 · head 1", "layer 1 · head 0", "layer 1 · head 1"]);
  assert.equal(menu.active, 2);
  assert.deepEqual(menu.buttons[1].args[0].z[0], asMatrix(attentions[0][1]));
  assert.equal(figure.data[0].z![0][2], null, "the first query cannot see later keys: blank, not 0");
});

test("attention, all heads: one heatmap per head and a layer menu that restyles all of them", () => {
  const figure = attentionFigure({ tokens, attentions }, { layer: 0, head: "all" });
  assert.equal(figure.data.length, 2);
  assert.deepEqual(figure.data.map((t) => t.xaxis), ["x1", "x2"]);
  const [menu] = figure.layout.updatemenus as { buttons: { label: string; args: [{ z: number[][][] }, unknown, number[]] }[] }[];
  assert.deepEqual(menu.buttons.map((b) => b.label), ["layer 0", "layer 1"]);
  assert.deepEqual(menu.buttons[1].args[0].z, [asMatrix(attentions[1][0]), asMatrix(attentions[1][1])]);
  assert.deepEqual(menu.buttons[1].args[2], [0, 1]);
});

test("attention: a layer or head out of range names the limit", () => {
  assert.throws(() => attentionFigure({ tokens, attentions }, { layer: 2 }), /Expected `layer` to be an integer in \[0, 1\].*got `2`/);
  assert.throws(() => attentionFigure({ tokens, attentions }, { head: -1 }), /Expected `head` to be an integer in \[0, 1\].*each layer has 2 heads/);
});

test("where each new token looked: a row per step, blank past what it could see, averages by hand", () => {
  // Prompt "A", then " b" and "c" generated: step 0 saw 1 position, step 1 saw 2.
  const attention = [0, 1].map((t) => [0, 1].map((l) => [0, 1].map((h) => (t === 0 ? Float32Array.of(1) : Float32Array.of(0.1 * (1 + l + 2 * h), 1 - 0.1 * (1 + l + 2 * h))))));
  const figure = lookedAtFigure(tokens, attention);
  // Step 1, key 0: mean over (l, h) of 0.1·(1 + l + 2h) = 0.1·(1 + 0.5 + 1) = 0.25.
  assert.deepEqual(figure.data[0].z, [
    [1, null, null],
    [0.25, 0.75, null],
  ]);
  assert.deepEqual(figure.data[0].y, ["1: ␣b", "2: c"]);
  const [menu] = figure.layout.updatemenus as { buttons: { label: string; args: [{ z: (number | null)[][][] }] }[] }[];
  const head = menu.buttons.find((b) => b.label === "layer 1 · head 1")!;
  assert.deepEqual(head.args[0].z[0][1], [0.4, 0.6, null]);
  assert.equal(lookedAtFigure(tokens, attention, { layer: 1, head: 1 }).data[0].z![1][0], 0.4);
  assert.throws(() => lookedAtFigure(tokens.slice(0, 2), attention), /the prompt's tokens and the 2 generated ones, got 2 tokens/);
  assert.throws(() => lookedAtFigure(tokens, attention, { head: 0 }), /a `layer` with `head`/);
});

test("logit lens: layers × positions coloured by the top probability, and one position's rank by layer", () => {
  const entry = (id: number, text: string, prob: number, rank: number): LensEntry => ({ id, text, prob, top: [{ id, text, prob }], target: { id: 9, text: " x", prob: prob / 2, rank } });
  const lens = [
    [entry(1, " a", 0.1, 30), entry(2, " b", 0.2, 20), entry(3, " c", 0.3, 10)],
    [entry(4, " d", 0.4, 3), entry(5, " e", 0.5, 2), entry(6, " f", 0.6, 0)],
  ];
  const grid = logitLensFigure({ tokens, lens });
  assert.deepEqual(grid.data[0].z, [
    [0.1, 0.2, 0.3],
    [0.4, 0.5, 0.6],
  ]);
  assert.deepEqual(grid.data[0].text, [
    ["␣a", "␣b", "␣c"],
    ["␣d", "␣e", "␣f"],
  ]);
  const track = logitLensFigure({ tokens, lens }, { position: 2 });
  assert.deepEqual(track.data[0].y, [0.15, 0.3]);
  assert.deepEqual(track.data[1].customdata, [10, 0]);
  assert.throws(() => logitLensFigure({ tokens, lens }, { position: 3 }), /Expected `position` to be an integer in \[0, 2\].*3 tokens/);
  assert.throws(() => logitLensFigure({ tokens, lens: [] }), /leave `lens: true`/);
});
