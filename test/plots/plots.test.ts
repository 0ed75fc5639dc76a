// Figure builders checked as plain objects against values worked out by hand from logits chosen so
// that the probabilities are simple fractions (log 4, log 2, log 1 → 4/8, 2/8, 1/8).
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionMaskFigure, causalMask } from "../../lib/plots/attention";
import { distinctTokenCounts, distinctTokensFigure, entropyFigure, geometricRange } from "../../lib/plots/diversity";
import { tokenLabel, tokenLabels } from "../../lib/plots/figure";
import { REST_LABEL, samplingStagesFigure, temperatureSliderFigure, topKCutFigure } from "../../lib/plots/next-token";
import { probabilityColour, tokenProbabilityHtml } from "../../lib/plots/tokens";
import { processLogits } from "../../lib/sampling/pipeline";

const tokenText = (id: number) => ["A", " b", "c", "d", "e"][id] ?? `t${id}`;
const close = (actual: unknown, expected: number[], tolerance = 1e-6) => {
  const values = actual as number[];
  assert.equal(values.length, expected.length, `length of ${JSON.stringify(values)}`);
  values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tolerance, `[${i}]: ${v} vs ${expected[i]}`));
};
const sum = (values: unknown) => (values as number[]).reduce((a, b) => a + b, 0);

// probabilities 1/2, 1/4, 1/8, 1/8 at temperature 1
const QUARTERS = [Math.log(4), Math.log(2), 0, 0];

test("temperature slider: one frame per temperature, shown bars + rest sum to 1", () => {
  const figure = temperatureSliderFigure(QUARTERS, { tokenText, temperatures: [0.5, 1, 2], topN: 2 });
  assert.deepEqual(figure.data[0].x, ["A", "␣b", REST_LABEL]);
  assert.deepEqual(
    figure.frames!.map((f) => f.name),
    ["0.5", "1", "2"],
  );
  // T = 1: 4/8, 2/8, rest 2/8. T = 0.5 squares the odds: 16, 4, 1, 1 over 22. T = 2: 2, √2, 1, 1.
  close(figure.frames![1].data[0].y, [0.5, 0.25, 0.25]);
  close(figure.frames![0].data[0].y, [16 / 22, 4 / 22, 2 / 22]);
  const z = 4 + Math.SQRT2;
  close(figure.frames![2].data[0].y, [2 / z, Math.SQRT2 / z, 2 / z]);
  for (const frame of figure.frames!) assert.ok(Math.abs(sum(frame.data[0].y) - 1) < 1e-6);
  // The slider starts at temperature 1 and its steps animate to the frames by name.
  const slider = figure.layout.sliders![0];
  assert.equal(slider.active, 1);
  assert.deepEqual(
    slider.steps.map((s) => (s.args[0] as string[])[0]),
    ["0.5", "1", "2"],
  );
  assert.deepEqual(figure.data[0].y, figure.frames![1].data[0].y);
  assert.match(figure.frames![0].layout!.title!.text, /temperature 0\.5/);
});

test("temperature slider: rejects bad settings", () => {
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, temperatures: [0.5, 2] }), /`initialTemperature`.*got `1`/);
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, temperatures: [] }), RangeError);
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, temperatures: [0, 1] }), RangeError);
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, topN: 0 }), RangeError);
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, topN: 1.5 }), RangeError);
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, topN: "2" as unknown as number }), TypeError);
  assert.doesNotThrow(() => temperatureSliderFigure(QUARTERS, { tokenText, topN: 1 }));
});

test("top-k cut: line after the k-th bar, kept tokens renormalised", () => {
  // 0.4, 0.3, 0.2, 0.1; k = 2 keeps 0.4 and 0.3 → 4/7, 3/7.
  const figure = topKCutFigure([Math.log(4), Math.log(3), Math.log(2), 0], { tokenText, k: 2 });
  assert.deepEqual(figure.data[0].x, ["A", "␣b", "c", "d"]);
  close(figure.data[0].y, [0.4, 0.3, 0.2, 0.1]);
  close(figure.data[1].y, [4 / 7, 3 / 7, 0, 0]);
  assert.equal(figure.layout.shapes![0].x0, 1.5);
  assert.equal(figure.layout.shapes![0].x1, 1.5);
  const colours = (figure.data[0].marker as { color: string[] }).color;
  assert.equal(colours[0], colours[1]);
  assert.notEqual(colours[1], colours[2]);
  assert.match(figure.layout.title!.text, /2 tokens kept/);
});

test("top-k cut: ties with the k-th token are kept, so the line moves past them", () => {
  // 3/8, 2/8, 2/8, 1/8 with k = 2: the two 2/8 tie, both stay → 3/7, 2/7, 2/7.
  const figure = topKCutFigure([Math.log(3), Math.log(2), Math.log(2), 0], { tokenText, k: 2 });
  assert.equal(figure.layout.shapes![0].x0, 2.5);
  close(figure.data[1].y, [3 / 7, 2 / 7, 2 / 7, 0]);
  assert.throws(() => topKCutFigure(QUARTERS, { tokenText, k: 0 }), RangeError);
  assert.throws(() => topKCutFigure(QUARTERS, { tokenText, k: 1.5 }), RangeError);
  assert.doesNotThrow(() => topKCutFigure(QUARTERS, { tokenText, k: 1 }));
});

test("top-k cut: topN smaller than the kept tokens is raised so the cut stays visible", () => {
  const logits = Array.from({ length: 50 }, (_, i) => -i);
  const figure = topKCutFigure(logits, { tokenText, k: 5, topN: 3 });
  assert.equal(figure.data[0].x!.length, 6);
  assert.equal(figure.layout.shapes![0].x0, 4.5);
});

test("sampling stages: one trace per stage, each summing to 1 with its rest bar", () => {
  // T = 0.5: 16, 4, 1, 1 over 22. top-k 2: 16/20, 4/20. top-p 0.7: 0.2 <= 1 - 0.7 is dropped → 1, 0.
  const stages = processLogits(QUARTERS, { temperature: 0.5, topK: 2, topP: 0.7 });
  const figure = samplingStagesFigure(stages, { tokenText, topN: 2 });
  assert.deepEqual(
    figure.data.map((t) => t.name),
    ["softmax of the raw logits", "after temperature", "after top-k", "after top-p (sampled from)"],
  );
  close(figure.data[0].y, [0.5, 0.25, 0.25]);
  close(figure.data[1].y, [16 / 22, 4 / 22, 2 / 22]);
  close(figure.data[2].y, [0.8, 0.2, 0]);
  close(figure.data[3].y, [1, 0, 0]);
  assert.deepEqual(figure.data[0].x, ["A", "␣b", REST_LABEL]);
});

test("entropy against temperature: ln(vocab) for uniform logits, hand values for two tokens", () => {
  const figure = entropyFigure(
    [
      { name: "uniform", logits: new Float32Array(8) },
      { name: "3:1", logits: [Math.log(3), 0] },
    ],
    { temperatures: [0.5, 1, 4] },
  );
  close(figure.data[0].y, [Math.log(8), Math.log(8), Math.log(8)], 1e-6);
  // T = 1: 3/4, 1/4. T = 0.5: 9/10, 1/10. T = 4: 3^(1/4) : 1.
  const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  const r = 3 ** 0.25;
  close(figure.data[1].y, [h(0.9), h(0.75), h(r / (r + 1))], 1e-6);
  assert.equal(figure.layout.shapes![0].y0, Math.log(8));
  assert.throws(() => entropyFigure([]), RangeError);
  assert.throws(() => entropyFigure([{ name: "x", logits: [0, 1] }], { temperatures: [0] }), RangeError);
});

test("geometricRange: evenly spaced on a log scale, ends included", () => {
  close(geometricRange(0.1, 10, 3), [0.1, 1, 10], 1e-12);
  assert.equal(geometricRange(0.05, 20, 41).length, 41);
  assert.throws(() => geometricRange(1, 1, 3), RangeError);
  assert.throws(() => geometricRange(1, 2, 1), RangeError);
});

test("distinct tokens: never more than min(k, samples), repeatable for a seed", () => {
  // Ten nearly equal logits (no ties): top-k keeps exactly k, each about 1/k likely.
  const logits = Array.from({ length: 10 }, (_, i) => -i * 0.01);
  const counts = distinctTokenCounts(logits, { topKs: [1, 3, 10], temperatures: [1, 2], numSamples: 300, seed: 7 });
  assert.deepEqual(
    counts.rows.map((r) => [r.temperature, r.topK]),
    [
      [1, 1],
      [1, 3],
      [1, 10],
      [2, 1],
      [2, 3],
      [2, 10],
    ],
  );
  // With 300 draws from ~1/k each, missing one of k <= 10 tokens has probability below 10 · 0.9^300.
  assert.deepEqual(
    counts.rows.map((r) => r.distinct),
    [1, 3, 10, 1, 3, 10],
  );
  assert.deepEqual(distinctTokenCounts(logits, { topKs: [5], numSamples: 4, seed: 3 }), distinctTokenCounts(logits, { topKs: [5], numSamples: 4, seed: 3 }));
  assert.ok(distinctTokenCounts(logits, { topKs: [10], temperatures: [1], numSamples: 4 }).rows[0].distinct <= 4);
  assert.throws(() => distinctTokenCounts(logits, { numSamples: 0 }), RangeError);
  assert.throws(() => distinctTokenCounts(logits, { topKs: [0] }), RangeError);
  assert.throws(() => distinctTokenCounts(logits, { temperatures: [] }), RangeError);
});

test("distinct tokens figure: a line per temperature and the min(k, samples) ceiling", () => {
  const figure = distinctTokensFigure({
    numSamples: 4,
    seed: 0,
    rows: [
      { temperature: 1, topK: 10, distinct: 3 },
      { temperature: 1, topK: 2, distinct: 2 },
      { temperature: 2, topK: 2, distinct: 2 },
      { temperature: 2, topK: 10, distinct: 4 },
    ],
  });
  assert.deepEqual(
    figure.data.map((t) => t.name),
    ["T = 1", "T = 2", "ceiling min(k, samples)"],
  );
  assert.deepEqual(figure.data[0].x, [2, 10]);
  assert.deepEqual(figure.data[0].y, [2, 3]);
  assert.deepEqual(figure.data[2].y, [2, 4]);
});

test("token colours: red at 0, yellow at 0.5, green at 1; text escaped, whitespace kept", () => {
  assert.equal(probabilityColour(0), "hsl(0, 75%, 80%)");
  assert.equal(probabilityColour(0.5), "hsl(60, 75%, 80%)");
  assert.equal(probabilityColour(1), "hsl(120, 75%, 80%)");
  assert.throws(() => probabilityColour(1.5), RangeError);
  assert.throws(() => probabilityColour(-0.1), RangeError);
  const html = tokenProbabilityHtml(
    [
      { text: " <b>", prob: 1, rank: 0 },
      { text: "\n&", prob: 0.25 },
    ],
    { prompt: "Q:", legend: false },
  );
  assert.equal(
    html,
    '<div class="gpt2-lab-tokens" style="font-family:monospace;white-space:pre-wrap;line-height:1.6"><span style="color:#777">Q:</span>' +
      '<span title="p = 1.0000, rank 0" style="background:hsl(120, 75%, 80%);border-radius:3px"> &lt;b&gt;</span>' +
      '<span title="p = 0.2500" style="background:hsl(30, 75%, 80%);border-radius:3px">\n&amp;</span></div>',
  );
});

test("causal mask: lower triangular, padded keys masked", () => {
  assert.deepEqual(causalMask(4), [
    [1, 0, 0, 0],
    [1, 1, 0, 0],
    [1, 1, 1, 0],
    [1, 1, 1, 1],
  ]);
  assert.deepEqual(causalMask(3, [0, 1, 1]), [
    [0, 0, 0],
    [0, 1, 0],
    [0, 1, 1],
  ]);
  assert.throws(() => causalMask(3, [1, 1]), /one entry per token \(3\), got 2/);
  assert.throws(() => causalMask(2, [1, 2]), RangeError);
  assert.throws(() => causalMask(0), RangeError);
  const figure = attentionMaskFigure(["When", " using", " LL"]);
  assert.deepEqual(figure.data[0].z, causalMask(3));
  const yaxis = figure.layout.yaxis as { ticktext: string[]; autorange: string };
  assert.deepEqual(yaxis.ticktext, ["0: When", "1: ␣using", "2: ␣LL"]);
  assert.equal(yaxis.autorange, "reversed");
});

test("token labels: visible whitespace, duplicates told apart by id", () => {
  assert.equal(tokenLabel(" the\n"), "␣the↵");
  assert.equal(tokenLabel("\t\u0001"), "⇥\\u0001");
  assert.equal(tokenLabel(""), "∅");
  assert.deepEqual(
    tokenLabels([5, 6, 7], (id) => (id === 7 ? "x" : " a")),
    ["␣a #5", "␣a #6", "x"],
  );
});

test("top-k cut and stage figures can use a log scale, where small bars stay visible", () => {
  const cut = topKCutFigure(QUARTERS, { tokenText, k: 2, logScale: true });
  assert.equal((cut.layout.yaxis as { type?: string }).type, "log");
  assert.equal((topKCutFigure(QUARTERS, { tokenText, k: 2 }).layout.yaxis as { type?: string }).type, undefined);
  const stages = samplingStagesFigure(processLogits(QUARTERS, { temperature: 1, topK: 2 }), { tokenText, logScale: true });
  assert.equal((stages.layout.yaxis as { type?: string }).type, "log");
  assert.throws(() => topKCutFigure(QUARTERS, { tokenText, k: 2, logScale: "yes" as never }), /Expected `logScale` to be a boolean/);
});

test("a sample's steps: one frame per step, the chosen token in its own colour, even outside the listed top", () => {
  const entry = (id: number, prob: number) => ({ id, text: tokenText(id), prob });
  const steps = [
    { token: { ...entry(1, 0.3), rank: 1 }, entropy: 1, top: [entry(0, 0.5), entry(1, 0.3)] },
    { token: { ...entry(4, 0.01), rank: 7 }, entropy: 2, top: [entry(2, 0.6), entry(3, 0.2)] },
  ];
  const figure = samplingStagesFigure(steps, { tokenText });
  assert.equal(figure.frames!.length, 2);
  assert.deepEqual(figure.frames![0].data[0].y, [0.5, 0.3]);
  assert.deepEqual(figure.frames![0].data[0].marker, { color: ["#1f77b4", "#ff7f0e"] });
  // Step 2 drew token 4, which is not among its top 2: it takes the last bar.
  assert.deepEqual(figure.frames![1].data[0].customdata, ["c", "e"]);
  assert.deepEqual(figure.frames![1].data[0].y, [0.6, 0.01]);
  assert.match(figure.frames![1].layout!.title!.text, /step 2 chose "e" \(probability 0\.010, rank 7\)/);
  assert.equal(figure.layout.sliders![0].steps.length, 2);
  assert.throws(() => samplingStagesFigure([], { tokenText }), /a sample's steps, from `generate` with `trace: 'top'`/);
});

test("temperature slider with top-k: one frame per pair, named for the two sliders that link them", () => {
  const figure = temperatureSliderFigure(QUARTERS, { tokenText, temperatures: [1, 2], topKs: [0, 1], topN: 2 });
  assert.deepEqual(figure.frames!.map((f) => f.name), ["1|0", "1|1", "2|0", "2|1"]);
  // T = 1, top-k 1: the likeliest token takes everything. T = 1, off: 4/8, 2/8, rest 2/8.
  close(figure.frames![1].data[0].y, [1, 0, 0]);
  close(figure.frames![0].data[0].y, [0.5, 0.25, 0.25]);
  assert.deepEqual(figure.layout.sliders!.map((s) => s.steps.map((step) => [step.label, step.method])), [
    [["1", "skip"], ["2", "skip"]],
    [["0", "skip"], ["1", "skip"]],
  ]);
  assert.throws(() => temperatureSliderFigure(QUARTERS, { tokenText, topKs: [-1] }), /Expected `topKs\[0\]` to be a non-negative integer \(0 = off\), got `-1`/);
});
