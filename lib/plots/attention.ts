// Attention as heatmaps, queries down the side and keys along the top: the causal mask (row i, a
// query position, may look at column j, a key position, only when j <= i, so a decoder-only model
// never sees the tokens it is about to predict; padded keys are masked too), the weights a model
// really used (`model.inspect`) one head at a time or all heads of a layer, and where each generated
// token looked (`traceAttention`). Selectors redraw without re-running the cell: every choice's
// values travel in the figure, up to a budget, past which only the chosen layer's do.
import { expectInteger, expectNumberList, invalid } from "../checks";
import { type PlotlyFigure, type PlotlyTrace, positionLabels } from "./figure";

/** Weights carried by one figure for its selector (about 10 bytes each in the notebook). */
const VALUE_BUDGET = 2_000_000;
/** White at weight 0, dark blue at 1, so that a near-zero weight differs from a masked (blank, grey) cell. */
const WEIGHT_COLOURS = [
  [0, "#ffffff"],
  [1, "#08306b"],
];
/** The background a masked cell (no value) shows. */
const MASKED_COLOUR = "#bdbdbd";

/** Options of {@link attentionMaskFigure}. */
export interface AttentionMaskOptions {
  /** 1 for a real token, 0 for padding, one per position (as the tokenizer returns). @default all 1 */
  attentionMask?: number[];
}

/**
 * `mask[i][j]` is 1 where query position `i` may attend to key position `j`: `j <= i` and position `j`
 * is not padding; 0 elsewhere.
 */
export function causalMask(length: number, attentionMask?: number[]): number[][] {
  expectInteger(length, "length", 1);
  if (attentionMask !== undefined) {
    expectNumberList(attentionMask, "attentionMask", "0 or 1", (m) => m === 0 || m === 1);
    if (attentionMask.length !== length) {
      throw new RangeError(`Expected \`attentionMask\` to have one entry per token (${length}), got ${attentionMask.length}`);
    }
  }
  return Array.from({ length }, (_, i) => Array.from({ length }, (_, j) => (j <= i && (attentionMask?.[j] ?? 1) === 1 ? 1 : 0)));
}

/**
 * Heatmap of {@link causalMask} for `tokens` (their texts, in order): queries down the side, keys
 * along the top, allowed cells coloured.
 */
export function attentionMaskFigure(tokens: string[], { attentionMask }: AttentionMaskOptions = {}): PlotlyFigure {
  if (!Array.isArray(tokens) || tokens.length === 0) throw new RangeError("Expected `tokens` to be a non-empty array of token texts");
  const allowed = causalMask(tokens.length, attentionMask);
  // 1: may attend; 0.5: a padding key (masked for every query); 0: a later position (masked).
  const z = allowed.map((row, i) => row.map((ok, j) => (ok ? 1 : attentionMask?.[j] === 0 ? 0.5 : 0)));
  const what = ["a later position: masked", "padding: masked", "may attend"];
  const positions = tokens.map((_, i) => i);
  const labels = positionLabels(tokens);
  // Square cells of about 40 px, within 420-720 px, plus room for the labels.
  const size = Math.max(420, Math.min(720, 200 + 40 * tokens.length));
  return {
    data: [
      {
        type: "heatmap",
        x: positions,
        y: positions,
        z,
        zmin: 0,
        zmax: 1,
        colorscale: [
          [0, "#e0e0e0"],
          [0.33, "#e0e0e0"],
          [0.33, "#fdae6b"],
          [0.67, "#fdae6b"],
          [0.67, "#1f77b4"],
          [1, "#1f77b4"],
        ],
        colorbar: { tickvals: [0.17, 0.5, 0.83], ticktext: what, thickness: 14, len: 0.5 },
        xgap: 2,
        ygap: 2,
        customdata: z.map((row) => row.map((v) => what[v * 2])),
        hovertemplate: "query %{y} → key %{x}: %{customdata}<extra></extra>",
      },
    ],
    layout: {
      title: { text: "Causal mask: which keys each query may attend to", y: 0.98 },
      height: size,
      width: size + 220,
      xaxis: { title: { text: "key (attended to)" }, tickvals: positions, ticktext: labels, side: "top", tickangle: -45, constrain: "domain" },
      yaxis: { title: { text: "query" }, tickvals: positions, ticktext: labels, autorange: "reversed", scaleanchor: "x" },
      margin: { t: 150, l: 140, r: 20, b: 20 },
    },
  };
}

/** What the attention figures read: `model.inspect`'s result fits. */
export interface AttentionData {
  tokens: string[];
  /** [layer][head][query][key]. */
  attentions: ArrayLike<number>[][][];
}

/** Options of {@link attentionFigure}. */
export interface AttentionFigureOptions {
  /** The layer shown first, from 0. @default 0 */
  layer?: number;
  /** The head shown first, from 0, or `all` for every head of the layer side by side. @default 0 */
  head?: number | "all";
}

/**
 * The attention weights of one head (or with `head: "all"`, of every head of one layer as small
 * multiples), with a menu that switches layer and head without re-running the cell. Hover a cell
 * for its query, key and weight. Keys after the query are 0: the causal mask at work.
 */
export function attentionFigure({ tokens, attentions }: AttentionData, { layer = 0, head = 0 }: AttentionFigureOptions = {}): PlotlyFigure {
  const layers = attentions?.length ?? 0;
  if (!Array.isArray(tokens) || tokens.length === 0 || layers === 0) {
    throw new RangeError("Expected the result of `model.inspect` (tokens and attentions), got no tokens or no layers");
  }
  const heads = attentions[0].length;
  expectInteger(layer, "layer", 0, layers - 1, `the model has ${layers} layers`);
  if (head !== "all") expectInteger(head, "head", 0, heads - 1, `each layer has ${heads} heads, or pass "all"`);
  const T = tokens.length;
  const labels = positionLabels(tokens);
  // Keys after the query are masked: left blank, so they show the grey background, not a weight of 0.
  const matrix = (l: number, h: number) => Array.from({ length: T }, (_, q) => Array.from(attentions[l][h][q], (v, k) => (k > q ? null : round(v))));
  // Every layer's weights when they fit the budget, else only the chosen layer's.
  const shown = layers * heads * T * T <= VALUE_BUDGET ? Array.from({ length: layers }, (_, l) => l) : [layer];
  const heatmap = (l: number, h: number, axis = ""): PlotlyTrace => ({
    type: "heatmap",
    x: labels,
    y: labels,
    z: matrix(l, h),
    zmin: 0,
    zmax: 1,
    colorscale: WEIGHT_COLOURS,
    colorbar: { title: { text: "weight<br>(grey: masked)" } },
    hoverongaps: false,
    ...(axis ? { xaxis: `x${axis}`, yaxis: `y${axis}`, showscale: axis === "1" ? true : false } : {}),
    hovertemplate: `query %{y}<br>key %{x}<br>weight %{z:.3f}<extra>head ${h}</extra>`,
  });
  const size = Math.max(420, Math.min(760, 220 + 36 * T));
  if (head !== "all") {
    const title = (l: number, h: number) => `Attention weights, layer ${l}, head ${h}`;
    const choices = shown.flatMap((l) => Array.from({ length: heads }, (_, h) => ({ l, h })));
    return {
      data: [heatmap(layer, head)],
      layout: {
        title: { text: title(layer, head) },
        height: size,
        width: size + 160,
        plot_bgcolor: MASKED_COLOUR,
        xaxis: { title: { text: "key (attended to)" }, tickangle: -45 },
        yaxis: { title: { text: "query" }, autorange: "reversed" },
        margin: { t: MENU_MARGIN_TOP, l: 140, r: 20, b: 140 },
        updatemenus: [menu(choices.map(({ l, h }) => ({ label: `layer ${l} · head ${h}`, args: [{ z: [matrix(l, h)] }, { "title.text": title(l, h) }] })), choices.findIndex((c) => c.l === layer && c.h === head))],
      },
    };
  }
  // Small multiples: a grid of heads, near square, sharing one colour scale.
  const cols = Math.ceil(Math.sqrt(heads));
  const rows = Math.ceil(heads / cols);
  const axes: Record<string, unknown> = {};
  for (let h = 0; h < heads; h++) {
    const r = Math.floor(h / cols);
    const c = h % cols;
    const gap = 0.02;
    // Token labels on the bottom row and the left column only, where they do not collide.
    const bottom = r === rows - 1 || h + cols >= heads;
    axes[`xaxis${h + 1}`] = { domain: [c / cols + gap, (c + 1) / cols - gap], showticklabels: bottom, tickfont: { size: 11 }, tickangle: -90, anchor: `y${h + 1}`, title: { text: `head ${h}`, standoff: 2, font: { size: 12 } } };
    axes[`yaxis${h + 1}`] = { domain: [1 - (r + 1) / rows + gap * 2, 1 - r / rows - gap], showticklabels: c === 0, tickfont: { size: 11 }, autorange: "reversed", anchor: `x${h + 1}` };
  }
  const title = (l: number) => `The ${heads} heads of layer ${l}<br><sub>query down, key across; grey: masked</sub>`;
  const headIndices = Array.from({ length: heads }, (_, h) => h);
  return {
    data: headIndices.map((h) => heatmap(layer, h, String(h + 1))),
    layout: {
      title: { text: title(layer) },
      height: Math.max(480, Math.min(1600, 200 * rows + 160)),
      ...axes,
      plot_bgcolor: MASKED_COLOUR,
      margin: { t: MENU_MARGIN_TOP, l: 110, r: 20, b: 110 },
      updatemenus: [menu(shown.map((l) => ({ label: `layer ${l}`, args: [{ z: headIndices.map((h) => matrix(l, h)) }, { "title.text": title(l) }, headIndices] })), shown.indexOf(layer))],
    },
  };
}

/** Options of {@link lookedAtFigure}. */
export interface LookedAtOptions {
  /** The layer shown first, or `mean` for the average over layers. @default "mean" */
  layer?: number | "mean";
  /** The head shown first (with a layer), or `mean` for the average over its heads. @default "mean" */
  head?: number | "mean";
}

/**
 * Where each generated token looked: one row per new token, the weights its query gave to the prompt
 * and the tokens before it (from `generate`'s `traceAttention`). `tokens` are the prompt's and the
 * sample's tokens in order; `attention[step][layer][head][key]` is `sample.attention`. A menu
 * switches between the average over everything, one layer's average, and single heads.
 */
export function lookedAtFigure(tokens: string[], attention: ArrayLike<number>[][][], { layer = "mean", head = "mean" }: LookedAtOptions = {}): PlotlyFigure {
  if (!Array.isArray(attention) || attention.length === 0) throw invalid(RangeError, "attention", "a sample's `attention` (generate with `traceAttention: true`)", attention);
  const steps = attention.length;
  const prompt = tokens.length - steps;
  if (!Array.isArray(tokens) || prompt < 1) {
    throw new RangeError(`Expected \`tokens\` to hold the prompt's tokens and the ${steps} generated ones, got ${tokens?.length} tokens`);
  }
  const layers = attention[0].length;
  const heads = attention[0][0].length;
  if (layer !== "mean") expectInteger(layer, "layer", 0, layers - 1, `the model has ${layers} layers, or pass "mean"`);
  if (head !== "mean") {
    expectInteger(head, "head", 0, heads - 1, `each layer has ${heads} heads, or pass "mean"`);
    if (layer === "mean") throw new RangeError("Expected a `layer` with `head`: a head is one layer's");
  }
  const labels = positionLabels(tokens);
  const T = tokens.length;
  // One row per step over every position; the positions a step could not see are left blank.
  const rowsFor = (weight: (step: number, key: number) => number) =>
    Array.from({ length: steps }, (_, t) => Array.from({ length: T }, (_, k) => (k < prompt + t ? round(weight(t, k)) : null)));
  const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const everyHead = Array.from({ length: heads }, (_, h) => h);
  const everyLayer = Array.from({ length: layers }, (_, l) => l);
  type Choice = { label: string; z: (number | null)[][] };
  const choices: Choice[] = [{ label: "mean of all layers and heads", z: rowsFor((t, k) => average(everyLayer.map((l) => average(everyHead.map((h) => attention[t][l][h][k]))))) }];
  const perChoice = steps * T;
  for (const l of everyLayer) {
    choices.push({ label: `layer ${l}, mean of heads`, z: rowsFor((t, k) => average(everyHead.map((h) => attention[t][l][h][k]))) });
    // Single heads when they fit the budget, else only the chosen layer's.
    if (perChoice * layers * heads <= VALUE_BUDGET || l === layer) {
      for (const h of everyHead) choices.push({ label: `layer ${l} · head ${h}`, z: rowsFor((t, k) => attention[t][l][h][k]) });
    }
  }
  const label = layer === "mean" ? choices[0].label : head === "mean" ? `layer ${layer}, mean of heads` : `layer ${layer} · head ${head}`;
  const active = choices.findIndex((c) => c.label === label);
  const title = (what: string) => `Where each new token looked<br><sub>${what}</sub>`;
  // The colour scale spans each choice's own weights: averages rarely come near 1.
  const top = (z: (number | null)[][]) => Math.max(1e-6, ...z.flat().map((v) => v ?? 0));
  return {
    data: [
      {
        type: "heatmap",
        x: labels,
        y: labels.slice(prompt),
        z: choices[active].z,
        zmin: 0,
        zmax: top(choices[active].z),
        colorscale: WEIGHT_COLOURS,
        colorbar: { title: { text: "weight" } },
        hoverongaps: false,
        hovertemplate: "choosing %{y}<br>looked at %{x}<br>weight %{z:.3f}<extra></extra>",
      },
    ],
    layout: {
      title: { text: title(choices[active].label) },
      height: Math.max(380, Math.min(900, 260 + 28 * steps)),
      xaxis: { title: { text: "earlier position (prompt left of the red line; grey: not yet written)" }, tickangle: -45 },
      yaxis: { title: { text: "new token" }, autorange: "reversed" },
      margin: { t: MENU_MARGIN_TOP, l: 140, r: 20, b: 140 },
      shapes: [{ type: "line", xref: "x", yref: "paper", x0: prompt - 0.5, x1: prompt - 0.5, y0: 0, y1: 1, line: { color: "#d62728", width: 2, dash: "dot" } }],
      plot_bgcolor: MASKED_COLOUR,
      updatemenus: [menu(choices.map((c) => ({ label: c.label, args: [{ z: [c.z], zmax: [top(c.z)] }, { "title.text": title(c.label) }] })), active)],
    },
  };
}

/** Four decimals are what a colour shows, and they keep the figure small. */
function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/**
 * Room above the plot for the menu and, above it, a title of two lines: plotly centres the title in
 * this margin and puts the menu at its bottom, so a smaller margin lets the menu cover the title.
 */
const MENU_MARGIN_TOP = 140;

/** A dropdown whose entries update the figure in place. */
function menu(entries: { label: string; args: unknown[] }[], active: number): Record<string, unknown> {
  return {
    type: "dropdown",
    active,
    x: 0,
    y: 1.02,
    xanchor: "left",
    yanchor: "bottom",
    buttons: entries.map(({ label, args }) => ({ label, method: "update", args })),
  };
}
