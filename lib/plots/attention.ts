// The causal attention mask as a heatmap: row i (a query position) may look at column j (a key
// position) only when j <= i, so a decoder-only model never sees the tokens it is about to predict.
// With an attention mask from a padded batch, padded key positions are masked too.
// Left out: attention weights (the ONNX graph does not output them); this draws which cells are allowed.
import { expectInteger, expectNumberList } from "../checks";
import { type PlotlyFigure, tokenLabel } from "./figure";

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
  const z = causalMask(tokens.length, attentionMask);
  const positions = tokens.map((_, i) => i);
  const labels = tokens.map((t, i) => `${i}: ${tokenLabel(t)}`);
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
          [0, "#f2f2f2"],
          [1, "#1f77b4"],
        ],
        showscale: false,
        xgap: 2,
        ygap: 2,
        customdata: z.map((row) => row.map((allowed) => (allowed ? "may attend" : "masked"))),
        hovertemplate: "query %{y} → key %{x}: %{customdata}<extra></extra>",
      },
    ],
    layout: {
      title: { text: "Causal mask: blue = may attend", y: 0.98 },
      height: size,
      width: size + 60,
      xaxis: { title: { text: "key (attended to)" }, tickvals: positions, ticktext: labels, side: "top", tickangle: -45, constrain: "domain" },
      yaxis: { title: { text: "query" }, tickvals: positions, ticktext: labels, autorange: "reversed", scaleanchor: "x" },
      margin: { t: 150, l: 140, r: 20, b: 20 },
    },
  };
}
