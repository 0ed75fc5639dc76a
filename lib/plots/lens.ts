// The logit lens drawn (`model.inspect`): a grid of layers × positions, each cell the token the
// stream at that layer and position would predict next if the model stopped there, coloured by its
// probability; or, for one position, how the probability and rank of the token that came (or was
// chosen) rise layer by layer.
import { expectInteger } from "../checks";
import type { LensEntry } from "../inspect/inspect";
import { logProbabilityTicks, type PlotlyFigure, positionLabels, shortLabel, tokenLabel } from "./figure";

/** What the lens figure reads: `model.inspect`'s result fits. */
export interface LensData {
  tokens: string[];
  /** [layer][position], layer 0 = the embeddings. */
  lens: LensEntry[][];
}

/** Options of {@link logitLensFigure}. */
export interface LogitLensOptions {
  /** Draw one position's target layer by layer instead of the grid. */
  position?: number;
}

/**
 * The logit lens as a heatmap (layers up, positions across, the top token written in each cell,
 * colour = its probability; hover for the top list and the followed token's rank), or with
 * `position`, that position's followed token: its probability and rank at every layer.
 */
export function logitLensFigure({ tokens, lens }: LensData, { position }: LogitLensOptions = {}): PlotlyFigure {
  if (!Array.isArray(lens) || lens.length === 0) throw new RangeError("Expected the result of `model.inspect` with its lens (leave `lens: true`)");
  const T = tokens.length;
  const layers = lens.map((_, l) => l);
  const labels = positionLabels(tokens);
  if (position !== undefined) {
    expectInteger(position, "position", 0, T - 1, `the prompt has ${T} tokens`);
    const entries = lens.map((layer) => layer[position]);
    const target = tokenLabel(entries[0].target.text);
    return {
      data: [
        { type: "scatter", mode: "lines+markers", name: "probability", x: layers, y: entries.map((e) => e.target.prob), hovertemplate: "layer %{x}: p = %{y:.3g}<extra></extra>" },
        {
          type: "scatter",
          mode: "lines+markers",
          name: "rank + 1 (1 = the top guess)",
          x: layers,
          y: entries.map((e) => e.target.rank + 1),
          yaxis: "y2",
          customdata: entries.map((e) => e.target.rank),
          hovertemplate: "layer %{x}: rank %{customdata}<extra></extra>",
        },
      ],
      layout: {
        title: { text: `${JSON.stringify(target)} after ${JSON.stringify(labels[position])}<br><sub>its probability and rank, layer by layer</sub>` },
        height: 420,
        xaxis: { title: { text: "layer (0 = embeddings)" }, dtick: Math.max(1, Math.ceil(lens.length / 25)) },
        yaxis: { title: { text: "probability (log scale)" }, type: "log", ...logProbabilityTicks(12) },
        // Rank 0 is the top; on a log axis it is drawn as rank + 1 = 1, at the bottom.
        yaxis2: {
          title: { text: "rank + 1 (1 = the top guess)" },
          type: "log",
          tickmode: "array",
          tickvals: [1, 10, 100, 1000, 10000, 100000],
          ticktext: ["1", "10", "100", "1k", "10k", "100k"],
          // At least two decades, so that the axis always shows two labelled ticks.
          range: [0, Math.max(2, Math.log10(Math.max(...entries.map((e) => e.target.rank + 1))) + 0.3)],
          overlaying: "y",
          side: "right",
        },
        legend: { orientation: "h", y: -0.2 },
      },
    };
  }
  // Cells narrower than a few characters cannot show a token at 11 px: long tokens are cut.
  const cell = (e: LensEntry) => shortLabel(tokenLabel(e.text), 8);
  const hover = (e: LensEntry) =>
    e.top.map((t) => `${tokenLabel(t.text)} ${t.prob.toFixed(3)}`).join("<br>") + `<br>—<br>${tokenLabel(e.target.text)}: rank ${e.target.rank}, p ${e.target.prob.toPrecision(3)}`;
  return {
    data: [
      {
        type: "heatmap",
        x: labels,
        y: layers,
        z: lens.map((layer) => layer.map((e) => e.prob)),
        text: lens.map((layer) => layer.map(cell)),
        customdata: lens.map((layer) => layer.map(hover)),
        texttemplate: "%{text}",
        textfont: { size: 11 },
        zmin: 0,
        zmax: 1,
        colorscale: "Viridis",
        colorbar: { title: { text: "probability<br>of the guess" } },
        hovertemplate: "layer %{y}, after %{x}<br>%{customdata}<extra></extra>",
      },
    ],
    layout: {
      title: { text: "Logit lens<br><sub>each layer's top guess for the token after each position</sub>" },
      height: Math.max(360, Math.min(1400, 200 + 26 * lens.length)),
      xaxis: { title: { text: "position" }, tickangle: -45 },
      yaxis: { title: { text: "layer (0 = embeddings)" }, dtick: Math.max(1, Math.ceil(lens.length / 25)) },
      margin: { t: 60, l: 70, r: 20, b: 140 },
    },
  };
}
