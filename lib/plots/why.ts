// Why the model chose a token, drawn: direct logit attribution as bars per layer or as a layer ×
// head heatmap; the activation-patching grid (layers × positions, and layers × heads) on a
// diverging scale centred on 0; and occlusion as the prompt coloured by how much each token
// mattered (HTML, like `tokenProbabilityHtml`).
import { expectOneOf, invalid } from "../checks";
import type { Attribution } from "../interpret/attribute";
import type { Occlusion } from "../interpret/occlude";
import type { Patching } from "../interpret/patch";
import { escapeHtml, type PlotlyFigure, tokenLabel } from "./figure";

const ATTENTION_COLOUR = "#1f77b4";
const MLP_COLOUR = "#ff7f0e";
const OTHER_COLOUR = "#7f7f7f";
/** Blue (negative) through white (0) to red (positive). */
const DIVERGING = [
  [0, "#2166ac"],
  [0.5, "#f7f7f7"],
  [1, "#b2182b"],
];

/** What an attribution or a patching measures, in words: `logit("a") − logit("b")`, or `the logit of "a"`. */
export function logitLabel(target: { text: string }, against?: { text: string }): string {
  const quoted = (token: { text: string }) => JSON.stringify(tokenLabel(token.text));
  return against ? `logit(${quoted(target)}) − logit(${quoted(against)})` : `the logit of ${quoted(target)}`;
}

/**
 * The attribution from `attribute`: `bars` shows each layer's attention (its heads and bias summed)
 * and MLP beside the embeddings and ln_f's bias; `heads` shows every head as a layer × head heatmap.
 */
export function attributionFigure(attribution: Attribution, { view = "bars" }: { view?: "bars" | "heads" } = {}): PlotlyFigure {
  if (!attribution?.parts?.heads) throw invalid(TypeError, "attribution", "what `attribute` returns", attribution);
  expectOneOf(view, "view", ["bars", "heads"]);
  const { parts, target, against } = attribution;
  const what = logitLabel(target, against);
  if (view === "heads") {
    const limit = Math.max(1e-9, ...parts.heads.flat().map(Math.abs));
    return {
      data: [
        {
          type: "heatmap",
          z: parts.heads,
          x: parts.heads[0].map((_, h) => h),
          y: parts.heads.map((_, l) => l),
          zmin: -limit,
          zmax: limit,
          colorscale: DIVERGING,
          colorbar: { title: { text: "logit units" } },
          hovertemplate: "layer %{y}, head %{x}: %{z:.3f}<extra></extra>",
        },
      ],
      layout: {
        title: { text: `What each head adds<br><sub>to ${what}</sub>` },
        height: Math.max(300, 28 * parts.heads.length + 160),
        xaxis: { title: { text: "head" }, dtick: 1 },
        yaxis: { title: { text: "layer" }, dtick: 1, autorange: "reversed" },
      },
    };
  }
  const layers = parts.mlps.map((_, l) => l);
  const attention = layers.map((l) => parts.heads[l].reduce((s, x) => s + x, 0) + parts.attentionBias[l]);
  return {
    data: [
      { type: "bar", name: "embeddings and ln_f bias", x: ["embeddings", "ln_f bias"], y: [parts.embeddings, parts.finalBias], marker: { color: OTHER_COLOUR }, hovertemplate: "%{x}: %{y:.3f}<extra></extra>" },
      { type: "bar", name: "attention (heads + bias)", x: layers.map((l) => `layer ${l}`), y: attention, marker: { color: ATTENTION_COLOUR }, hovertemplate: "%{x} attention: %{y:.3f}<extra></extra>" },
      { type: "bar", name: "MLP", x: layers.map((l) => `layer ${l}`), y: parts.mlps, marker: { color: MLP_COLOUR }, hovertemplate: "%{x} MLP: %{y:.3f}<extra></extra>" },
    ],
    layout: {
      title: { text: `What each part adds<br><sub>to ${what}, ${attribution.logit.toFixed(2)} in all</sub>` },
      barmode: "group",
      height: 420,
      xaxis: { title: { text: "part of the model" }, tickangle: -45 },
      yaxis: { title: { text: "contribution (logit units)" }, zeroline: true },
      legend: { orientation: "h", y: 1.12 },
      margin: { b: 110 },
    },
  };
}

/**
 * The patching grid from `patchActivations`: `residual` (layer × position, the corrupted prompt's
 * tokens on the axis) or `heads` (layer × head). The colour is the metric itself, centred on 0:
 * red favours the target, blue the token it is measured against.
 */
export function patchingFigure(patching: Patching, { view = "residual" }: { view?: "residual" | "heads" } = {}): PlotlyFigure {
  if (!patching?.residual) throw invalid(TypeError, "patching", "what `patchActivations` returns", patching);
  expectOneOf(view, "view", ["residual", "heads"]);
  if (view === "heads" && !patching.heads) throw new TypeError("This patching has no per-head grid; run `patchActivations` with `heads: true`");
  const z = view === "heads" ? patching.heads! : patching.residual;
  const limit = Math.max(1e-9, Math.abs(patching.clean), Math.abs(patching.corrupted), ...z.flat().map(Math.abs));
  const metric = logitLabel(patching.target, patching.against);
  const x = view === "heads" ? z[0].map((_, h) => h) : patching.tokens.map((t, p) => `${p}: ${tokenLabel(t)}`);
  return {
    data: [
      {
        type: "heatmap",
        z,
        x,
        y: z.map((_, l) => l),
        zmin: -limit,
        zmax: limit,
        colorscale: DIVERGING,
        colorbar: { title: { text: "logit difference" } },
        hovertemplate: view === "heads" ? "layer %{y}, head %{x}: %{z:.3f}<extra></extra>" : "layer %{y}, %{x}: %{z:.3f}<extra></extra>",
      },
    ],
    layout: {
      title: { text: `Activation patching<br><sub>${metric}: clean ${patching.clean.toFixed(2)}, corrupted ${patching.corrupted.toFixed(2)}</sub>` },
      height: Math.max(320, 30 * z.length + 200),
      xaxis: { title: { text: view === "heads" ? "head (its output at every position)" : "position in the corrupted prompt" }, tickangle: view === "heads" ? 0 : -45, ...(view === "heads" ? { dtick: 1 } : {}) },
      yaxis: { title: { text: view === "heads" ? "layer" : "residual stream entering layer" }, dtick: 1, autorange: "reversed" },
      margin: { b: 120 },
    },
  };
}

/** The prompt from `occlude`, each token coloured by the change in the target's probability without it: red where removing it hurts. */
export function occlusionHtml(occlusion: Occlusion): string {
  if (!occlusion || !Array.isArray(occlusion.tokens)) throw invalid(TypeError, "occlusion", "what `occlude` returns", occlusion);
  const limit = Math.max(1e-12, ...occlusion.tokens.map((t) => Math.abs(t.change)));
  const colour = (change: number) => {
    const strength = Math.min(1, Math.abs(change) / limit);
    // Removing a token that helped lowers the probability: red; one that hurt: blue.
    return change < 0 ? `rgba(178, 24, 43, ${0.1 + 0.6 * strength})` : `rgba(33, 102, 172, ${0.1 + 0.6 * strength})`;
  };
  const spans = occlusion.tokens.map(
    ({ text, prob, change }) =>
      `<span title="${escapeHtml(`without it: p = ${prob.toFixed(4)} (${change >= 0 ? "+" : ""}${change.toFixed(4)})`)}" style="background:${colour(change)};border-radius:3px">${escapeHtml(text)}</span>`,
  );
  return (
    `<div style="font-size:90%;color:#555;margin-bottom:4px">Each token replaced in turn: how the probability of ${escapeHtml(JSON.stringify(occlusion.target.text))} (${occlusion.prob.toFixed(4)}) changes. ` +
    'Red: it falls without the token; blue: it rises.</div>' +
    `<div class="gpt2-lab-tokens" style="font-family:monospace;white-space:pre-wrap;line-height:1.6">${spans.join("")}</div>`
  );
}
