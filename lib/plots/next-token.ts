// Figures of one next-token distribution: bars of the most likely tokens under a temperature slider,
// the top-k cut drawn on them, and the distribution after each stage of the sampling pipeline.
// All the maths comes from lib/sampling; these builders only pick tokens,
// compute the values to draw, and lay them out. Plotly draws them (lib/display.ts `showFigure`).
// Left out: the full 50,257-bar distribution; everything outside the top N is one "(rest)" bar.
import { expectBoolean, expectInteger, expectNumberList } from "../checks";
import { entropy, softmax, topN } from "../sampling/distribution";
import { type SamplingStages, type StageName, STAGES } from "../sampling/pipeline";
import { applyTemperature, applyTopK } from "../sampling/warpers";
import type { StepTrace } from "../sampling/choose";
import { ANIMATE_NOW, logProbabilityTicks, type PlotlyFigure, type PlotlyFrame, type TokenTextFn, tokenLabels } from "./figure";
import { stepsFigure } from "./steps";

/** Label of the bar that holds the probability of every token not shown. */
export const REST_LABEL = "(rest)";

const SHOWN_COLOUR = "#1f77b4";
const REMOVED_COLOUR = "#c7c7c7";
const AFTER_COLOUR = "#ff7f0e";
const STAGE_COLOURS = ["#9aa5b1", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728", "#393b79"];
const STAGE_LABELS: Record<StageName, string> = {
  repetitionPenalty: "repetition penalty",
  noRepeatNgramSize: "no-repeat n-grams",
  minNewTokens: "min new tokens",
  temperature: "temperature",
  topK: "top-k",
  topP: "top-p",
  minP: "min-p",
  typicalP: "typical-p",
  epsilonCutoff: "epsilon cutoff",
  etaCutoff: "eta cutoff",
};

/** Options of {@link temperatureSliderFigure}. */
export interface TemperatureSliderOptions {
  /** Turns token ids into text for the axis, e.g. `(id) => model.tokenizer.tokenText(id)`. */
  tokenText: TokenTextFn;
  /** Temperatures the slider offers, each a finite number > 0. @default [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5] */
  temperatures?: number[];
  /** Temperature shown first; must be one of `temperatures`. @default 1 */
  initialTemperature?: number;
  /**
   * Add a second slider over these top-k settings (0 = off), applied after the temperature as
   * `generate` applies them; the bars then show the distribution tokens are drawn from. @default none
   */
  topKs?: number[];
  /** How many of the most likely tokens get a bar of their own. @default 15 */
  topN?: number;
  /** Figure title. @default "Next-token probabilities" */
  title?: string;
}

/**
 * Bars of the `topN` most likely next tokens plus one "(rest)" bar, with a slider that redraws them at
 * each temperature without re-running the cell (one plotly frame per temperature), and with `topKs`
 * a second slider for top-k (one frame per pair, named `temperature|k`; lib/display.ts links the two
 * sliders). Neither changes the order of tokens, so the bars stay in place and only their heights move.
 */
export function temperatureSliderFigure(
  logits: ArrayLike<number>, // [vocab]
  { tokenText, temperatures = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5], initialTemperature = 1, topKs, topN: n = 15, title = "Next-token probabilities" }: TemperatureSliderOptions,
): PlotlyFigure {
  expectNumberList(temperatures, "temperatures", "finite numbers > 0", (t) => t > 0 && t < Infinity);
  const active = temperatures.indexOf(initialTemperature);
  if (active < 0) {
    throw new RangeError(`Expected \`initialTemperature\` to be one of \`temperatures\` (${temperatures.join(", ")}), got \`${initialTemperature}\``);
  }
  if (topKs !== undefined) expectNumberList(topKs, "topKs", "a non-negative integer (0 = off)", (k) => Number.isInteger(k) && k >= 0);
  expectInteger(n, "topN", 1);
  const ids = topN(softmax(logits), n).map((t) => t.id);
  const labels = [...tokenLabels(ids, tokenText), REST_LABEL];
  const colours = [...ids.map(() => SHOWN_COLOUR), REMOVED_COLOUR];
  const ks = topKs ?? [0];
  const name = (temperature: number, k: number) => (topKs ? `${temperature}|${k}` : String(temperature));
  const frames: PlotlyFrame[] = temperatures.flatMap((temperature) =>
    ks.map((k) => {
      const scaled = applyTemperature(logits, temperature);
      const probs = softmax(k > 0 ? applyTopK(scaled, k) : scaled);
      const y = shownAndRest(probs, ids);
      const setting = topKs ? `temperature ${temperature}, top-k ${k || "off"}` : `temperature ${temperature}`;
      // Said in words, since at a high temperature every bar can be near 0 beside "(rest)".
      const held = 1 - y[y.length - 1];
      const heading = `${title}<br><sub>${setting}: entropy ${entropy(probs).toFixed(2)} nats; the ${ids.length} tokens shown hold ${(100 * held).toFixed(held < 0.01 ? 2 : 0)}%</sub>`;
      return { name: name(temperature, k), data: [{ y }], traces: [0], layout: { title: { text: heading } } };
    }),
  );
  const first = frames.find((f) => f.name === name(initialTemperature, ks[0]))!;
  // With two sliders plotly moves neither frame itself ("skip"): lib/display.ts animates to the
  // frame their labels name together.
  const slider = (prefix: string, values: number[], frameName: (v: number) => string, y: number, initial: number) => ({
    active: initial,
    currentvalue: { prefix },
    pad: { t: y },
    steps: values.map((v) => ({
      label: String(v),
      method: topKs ? ("skip" as const) : ("animate" as const),
      args: topKs ? [] : [[frameName(v)], ANIMATE_NOW],
    })),
  });
  const sliders = [slider("temperature = ", temperatures, (t) => name(t, ks[0]), 60, active)];
  if (topKs) sliders.push({ ...slider("top-k (0 = off) = ", topKs, (k) => name(initialTemperature, k), 150, 0) });
  return {
    data: [
      {
        type: "bar",
        name: "probability",
        x: labels,
        y: first.data[0].y,
        marker: { color: colours },
        hovertemplate: "%{x}: %{y:.4f}<extra></extra>",
      },
    ],
    layout: {
      title: { text: first.layout!.title!.text },
      height: topKs ? 560 : 460,
      yaxis: { title: { text: "probability" }, range: [0, 1] },
      xaxis: { title: { text: "token (␣ is a space)" }, tickangle: -45 },
      margin: { b: topKs ? 240 : 140 },
      sliders,
    },
    frames,
  };
}

/** Options of {@link topKCutFigure}. */
export interface TopKCutOptions {
  /** Turns token ids into text for the axis. */
  tokenText: TokenTextFn;
  /** The top-k setting to draw: an integer >= 1. */
  k: number;
  /** Temperature applied before the cut, as in generation. @default 1 */
  temperature?: number;
  /** Bars to show; raised to the number of kept tokens + 1 so that the cut is always visible. @default kept + 10 */
  topN?: number;
  /** A logarithmic probability axis, where small bars beside one tall one stay visible (removed tokens, at 0, have no bar). @default false */
  logScale?: boolean;
}

/**
 * The most likely tokens before the top-k filter (kept ones coloured, removed ones grey), their
 * renormalised probabilities after it, and a dashed line at the cut. Ties with the k-th token are kept
 * (as in Hugging Face), so the line can sit after more than `k` bars.
 */
export function topKCutFigure(logits: ArrayLike<number>, { tokenText, k, temperature = 1, topN: n, logScale = false }: TopKCutOptions): PlotlyFigure {
  expectInteger(k, "k", 1);
  const scaled = applyTemperature(logits, temperature);
  const before = softmax(scaled);
  const after = softmax(applyTopK(scaled, k));
  let kept = 0;
  for (let i = 0; i < after.length; i++) if (after[i] > 0) kept++;
  if (n !== undefined) expectInteger(n, "topN", 1);
  const shown = Math.min(before.length, Math.max(n ?? kept + 10, kept + 1));
  const ids = topN(before, shown).map((t) => t.id);
  const labels = tokenLabels(ids, tokenText);
  const cut = kept - 0.5; // between the last kept bar (index kept - 1) and the first removed one
  return {
    data: [
      {
        type: "bar",
        name: "before top-k (kept)",
        x: labels,
        y: ids.map((id) => before[id]),
        marker: { color: ids.map((_, i) => (i < kept ? SHOWN_COLOUR : REMOVED_COLOUR)) },
        hovertemplate: "%{x}: %{y:.4f}<extra>before</extra>",
      },
      {
        type: "bar",
        name: "after top-k (renormalised)",
        x: labels,
        y: ids.map((id) => after[id]),
        marker: { color: AFTER_COLOUR },
        hovertemplate: "%{x}: %{y:.4f}<extra>after</extra>",
      },
      // No bars of its own: the legend's entry for the grey bars of the first trace.
      { type: "bar", name: "removed by top-k", x: [], y: [], marker: { color: REMOVED_COLOUR }, showlegend: true },
    ],
    layout: {
      title: { text: `Top-k with k = ${k}<br><sub>temperature ${temperature}: ${kept} tokens kept</sub>` },
      height: 440,
      barmode: "group",
      yaxis: probabilityAxis(logScale),
      xaxis: { title: { text: "token, most likely first" }, tickangle: -45 },
      margin: { b: 120 },
      shapes: [{ type: "line", xref: "x", yref: "paper", x0: cut, x1: cut, y0: 0, y1: 1, line: { dash: "dash", color: "#d62728", width: 2 } }],
      annotations: [{ xref: "x", yref: "paper", x: cut, y: 1, text: `cut: top ${kept}`, showarrow: false, xanchor: "left", yanchor: "bottom" }],
    },
  };
}

/** Options of {@link samplingStagesFigure}. */
export interface SamplingStagesOptions {
  /** Turns token ids into text for the axis. */
  tokenText: TokenTextFn;
  /** Tokens with a bar of their own (the most likely under the raw logits). @default 15 */
  topN?: number;
  /** Figure title, e.g. the settings that produced `stages`. @default "The distribution after each stage" */
  title?: string;
  /** A logarithmic probability axis (tokens removed by a stage, at 0, have no bar). @default false */
  logScale?: boolean;
}

/**
 * Grouped bars: for the most likely tokens, the probability each stage of `processLogits` gives them
 * (softmax of the raw logits, after temperature, after top-k, after top-p), plus a "(rest)" bar each.
 * Takes what `processLogits` returns or a step traced by `generate` with `trace: 'full'` (a greedy
 * step has only the raw logits and the final distribution, so it draws two groups). Given a whole
 * sample's steps (`sample.steps`, traced with `'top'` or `'full'`), it draws instead each step's final
 * distribution, the chosen token highlighted, under a step slider (`tokenText` then goes unused).
 */
export function samplingStagesFigure(
  stages: Partial<SamplingStages> | readonly StepTrace[],
  { tokenText, topN: n = 15, title = "The distribution after each stage", logScale = false }: SamplingStagesOptions,
): PlotlyFigure {
  if (Array.isArray(stages)) return stepsFigure(stages, title === "The distribution after each stage" ? undefined : title);
  expectInteger(n, "topN", 1);
  const { raw, probs } = (stages ?? {}) as Partial<SamplingStages>;
  if (!raw || !probs) {
    throw new TypeError("Expected `stages` to hold `raw` and `probs`: pass what `processLogits` returns, or a step traced with `trace: 'full'`");
  }
  // Every stage the pipeline recorded, in its order; the last one is what the token was drawn from.
  const present = STAGES.filter((stage) => (stages as Partial<SamplingStages>)[stage]);
  const sampled = present.includes("topP");
  const shown = sampled ? present.slice(0, -1) : present;
  const last = present.at(-1);
  const rows = [
    { name: "softmax of the raw logits", probs: softmax(raw) },
    ...shown.map((stage) => ({ name: `after ${STAGE_LABELS[stage]}`, probs: softmax((stages as SamplingStages)[stage]!) })),
    { name: sampled ? `after ${STAGE_LABELS[last!]} (sampled from)` : "chosen from (greedy: the most likely)", probs },
  ];
  const ids = topN(rows[0].probs, n).map((t) => t.id);
  const labels = [...tokenLabels(ids, tokenText), REST_LABEL];
  return {
    data: rows.map(({ name, probs: values }, i) => ({
      type: "bar" as const,
      name,
      x: labels,
      y: shownAndRest(values, ids),
      marker: { color: STAGE_COLOURS[i] },
      hovertemplate: `%{x}: %{y:.4f}<extra>${name}</extra>`,
    })),
    layout: {
      title: { text: title },
      height: 460,
      barmode: "group",
      yaxis: probabilityAxis(logScale),
      xaxis: { title: { text: "token (most likely under the raw logits first)" }, tickangle: -45 },
      margin: { b: 140 },
      legend: { orientation: "h", y: 1.12 },
    },
  };
}

/** The y axis of a probability plot, linear or logarithmic. */
function probabilityAxis(logScale: boolean): Record<string, unknown> {
  expectBoolean(logScale, "logScale");
  // One label per decade in full-size text: no bare "2" and "5" between them, no SI "µ".
  return logScale ? { title: { text: "probability (log scale)" }, type: "log", ...logProbabilityTicks() } : { title: { text: "probability" } };
}

/** The probabilities of `ids`, then the summed probability of every other token (the "(rest)" bar). */
function shownAndRest(probs: ArrayLike<number>, ids: number[]): number[] {
  const shown = new Set(ids);
  let rest = 0;
  for (let id = 0; id < probs.length; id++) if (!shown.has(id)) rest += probs[id];
  return [...ids.map((id) => probs[id]), rest];
}
