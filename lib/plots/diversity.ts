// How varied the next token is under different settings: the entropy of the distribution against
// temperature, and how many distinct tokens a batch of seeded samples contains against top-k, one line
// per temperature. The maths (softmax, temperature, top-k, entropy, sampling) comes from lib/sampling.ts
// and lib/distribution.ts; this file only sweeps the settings and lays the results out.
// Left out: whole-sequence diversity (distinct n-grams of generated text); these look at one step.
import { expectInteger, expectNumberList } from "../checks";
import { entropy, sampleToken, softmax } from "../sampling/distribution";
import { createRandom } from "../random";
import { processLogits } from "../sampling/pipeline";
import { applyTemperature } from "../sampling/warpers";
import { type PlotlyFigure } from "./figure";

const LINE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

/** `count` numbers from `from` to `to` (both included), evenly spaced on a log scale. */
export function geometricRange(from: number, to: number, count: number): number[] {
  if (!(from > 0 && to > from)) throw new RangeError(`Expected 0 < \`from\` < \`to\`, got \`${from}\` and \`${to}\``);
  expectInteger(count, "count", 2);
  const step = Math.log(to / from) / (count - 1);
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? to : from * Math.exp(step * i)));
}

/** One distribution to sweep: a name for the legend and its logits. */
export interface NamedLogits {
  name: string;
  logits: ArrayLike<number>; // [vocab]
}

/** Options of {@link entropyFigure}. */
export interface EntropyFigureOptions {
  /** Temperatures to evaluate, each > 0. @default 41 values from 0.05 to 20, evenly spaced on a log scale */
  temperatures?: number[];
}

/**
 * Entropy (nats) of the next-token distribution against temperature, one line per prompt, with the
 * ceiling `ln(vocab)` of the uniform distribution and a marker at temperature 1 (the model as trained).
 */
export function entropyFigure(series: NamedLogits[], { temperatures = geometricRange(0.05, 20, 41) }: EntropyFigureOptions = {}): PlotlyFigure {
  if (!Array.isArray(series) || series.length === 0) throw new RangeError("Expected `series` to be a non-empty array of { name, logits }");
  expectNumberList(temperatures, "temperatures", "finite numbers > 0", (t) => t > 0 && t < Infinity);
  const vocab = series[0].logits.length;
  const ceiling = Math.log(vocab);
  return {
    data: series.map(({ name, logits }, i) => ({
      type: "scatter" as const,
      mode: "lines+markers",
      name,
      x: temperatures,
      y: temperatures.map((t) => entropy(softmax(applyTemperature(logits, t)))),
      line: { color: LINE_COLOURS[i % LINE_COLOURS.length] },
      hovertemplate: "T = %{x:.3g}: %{y:.3f} nats<extra>%{fullData.name}</extra>",
    })),
    layout: {
      title: { text: "Entropy of the next token against temperature" },
      height: 420,
      // The temperatures themselves as the ticks: no bare minor labels between decades.
      xaxis: { title: { text: "temperature (log scale)" }, type: "log", ...logTicks(temperatures) },
      yaxis: { title: { text: "entropy (nats)" }, range: [0, ceiling * 1.05] },
      shapes: [
        { type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: ceiling, y1: ceiling, line: { dash: "dot", color: "#7f7f7f" } },
        { type: "line", xref: "x", yref: "paper", x0: 1, x1: 1, y0: 0, y1: 1, line: { dash: "dash", color: "#7f7f7f" } },
      ],
      annotations: [
        { xref: "paper", yref: "y", x: 0, y: ceiling, text: `uniform over ${vocab} tokens: ln ${vocab} = ${ceiling.toFixed(2)}`, showarrow: false, xanchor: "left", yanchor: "bottom" },
        { xref: "x", yref: "paper", x: 0, y: 1, text: "T = 1", showarrow: false, xanchor: "left", yanchor: "top" },
      ],
    },
  };
}

/** Options of {@link distinctTokenCounts}. */
export interface DistinctTokenOptions {
  /** Top-k settings to try, integers >= 1. @default [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] */
  topKs?: number[];
  /** Temperatures to try, each > 0. @default [0.3, 0.7, 1, 1.5, 3] */
  temperatures?: number[];
  /** Tokens drawn for each (temperature, top-k) pair. An integer >= 1. @default 200 */
  numSamples?: number;
  /** Seed of the draws; every pair uses a generator made from it, so curves are smooth and repeatable. @default 0 */
  seed?: number;
}

/** The result of {@link distinctTokenCounts}: one row per (temperature, top-k) pair. */
export interface DistinctTokenCounts {
  numSamples: number;
  seed: number;
  rows: { temperature: number; topK: number; distinct: number }[];
}

/**
 * Draws `numSamples` next tokens from `logits` at every (temperature, top-k) pair and counts how many
 * different tokens came up. Same settings and seed, same counts.
 */
export function distinctTokenCounts(
  logits: ArrayLike<number>, // [vocab]
  { topKs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], temperatures = [0.3, 0.7, 1, 1.5, 3], numSamples = 200, seed = 0 }: DistinctTokenOptions = {},
): DistinctTokenCounts {
  expectNumberList(topKs, "topKs", "integers >= 1", (k) => Number.isInteger(k) && k >= 1);
  expectNumberList(temperatures, "temperatures", "finite numbers > 0", (t) => t > 0 && t < Infinity);
  expectInteger(numSamples, "numSamples", 1);
  const rows: DistinctTokenCounts["rows"] = [];
  for (const temperature of temperatures) {
    for (const topK of topKs) {
      const { probs } = processLogits(logits, { temperature, topK, topP: 1 });
      const random = createRandom(seed);
      const seen = new Set<number>();
      for (let i = 0; i < numSamples; i++) seen.add(sampleToken(probs, random));
      rows.push({ temperature, topK, distinct: seen.size });
    }
  }
  return { numSamples, seed, rows };
}

/**
 * Distinct tokens among the samples against top-k (log scale), one line per temperature, under the
 * ceiling `min(k, numSamples)` that no setting can pass.
 */
export function distinctTokensFigure({ numSamples, rows }: DistinctTokenCounts): PlotlyFigure {
  if (!Array.isArray(rows) || rows.length === 0) throw new RangeError("Expected `rows` to hold at least one count");
  const temperatures = [...new Set(rows.map((r) => r.temperature))];
  const topKs = [...new Set(rows.map((r) => r.topK))].sort((a, b) => a - b);
  return {
    data: [
      ...temperatures.map((temperature, i) => {
        const line = rows.filter((r) => r.temperature === temperature).sort((a, b) => a.topK - b.topK);
        return {
          type: "scatter" as const,
          mode: "lines+markers",
          name: `T = ${temperature}`,
          x: line.map((r) => r.topK),
          y: line.map((r) => r.distinct),
          line: { color: LINE_COLOURS[i % LINE_COLOURS.length] },
          hovertemplate: "k = %{x}: %{y} distinct<extra>%{fullData.name}</extra>",
        };
      }),
      {
        type: "scatter" as const,
        mode: "lines",
        name: "ceiling min(k, samples)",
        x: topKs,
        y: topKs.map((k) => Math.min(k, numSamples)),
        line: { dash: "dot", color: "#7f7f7f" },
        hoverinfo: "skip",
      },
    ],
    layout: {
      title: { text: `Distinct next tokens in ${numSamples} samples` },
      height: 420,
      xaxis: { title: { text: "top-k (log scale)" }, type: "log", ...logTicks(topKs) },
      // At least two decades (1 to 100), so the axis always has two labelled ticks.
      yaxis: { title: { text: "distinct tokens (log scale)" }, type: "log", ...logTicks([1, Math.max(100, numSamples)]), range: [0, Math.max(2, Math.log10(Math.max(...rows.map((r) => r.distinct), numSamples)) + 0.1)] },
    },
  };
}

/** Ticks at 1, 2 and 5 times the powers of ten over the values' range, each with its full label (no bare "2"). */
function logTicks(values: number[]): { tickmode: "array"; tickvals: number[]; ticktext: string[] } {
  const [min, max] = [Math.min(...values), Math.max(...values)];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(1));
      if (v >= min && v <= max) ticks.push(v);
    }
  }
  return { tickmode: "array", tickvals: ticks, ticktext: ticks.map(String) };
}
