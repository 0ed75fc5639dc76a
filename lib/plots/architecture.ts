// GPT-2 drawn from a model's config: the embeddings, one block opened up (ln_1, masked multi-head
// attention, residual add, ln_2, the MLP with GELU, residual add) repeated n_layer times, ln_f, the
// tied output head, softmax, the choice of a token and the arrow back that appends it to the input:
// the loop that makes the model auto-regressive. Every box is labelled with the model's real sizes
// and says more on hover. Boxes are plotly shapes on a fixed grid; nothing is measured from text.
import { type Gpt2Config, innerSize } from "../config";
import type { PlotlyFigure } from "./figure";

interface Box {
  /** Centre, in grid units (x 0–10, y from the top). */
  x: number;
  y: number;
  width: number;
  label: string;
  hover: string;
  colour: string;
}

const COLOURS = { data: "#e8eef7", embed: "#d5e8d4", norm: "#fff2cc", attention: "#f8cecc", mlp: "#dae8fc", add: "#ffffff", head: "#e1d5e7" };
const HEIGHT = 0.8;

/** The architecture of the GPT-2 `config` describes, as a plotly figure (hover a box for its shapes). */
export function architectureFigure(config: Gpt2Config): PlotlyFigure {
  const { n_layer: layers, n_head: heads, n_embd: d, n_positions: context, vocab_size: vocab } = config;
  const inner = innerSize(config);
  const n = (v: number) => v.toLocaleString("en-US");
  const box = (y: number, label: string, hover: string, colour: string, x = 5, width = 5): Box => ({ x, y, width, label, hover, colour });
  const boxes: Box[] = [
    box(0, "token ids  [T]", "The prompt as token ids, T of them (at most the context of " + n(context) + ")", COLOURS.data),
    box(1.4, `token embedding wte  ${n(vocab)} × ${n(d)}`, `Looks up one row of ${n(d)} numbers per token id`, COLOURS.embed, 3.4, 3.6),
    box(1.4, `position embedding wpe  ${n(context)} × ${n(d)}`, `One learned row per position 0 … ${n(context - 1)}, added to the token's row`, COLOURS.embed, 7.2, 3.6),
    box(2.8, "+  →  residual stream  [T × " + n(d) + "]", "Token row plus position row: the stream every block reads from and adds to", COLOURS.add),
    box(4.2, "ln_1  LayerNorm", `Rescales each position's ${n(d)} numbers to mean 0, variance 1, then a learned gain and bias`, COLOURS.norm),
    box(5.4, `masked multi-head attention  ${heads} heads × ${d / heads}`, `q, k, v = x·W (${n(d)} → 3 × ${n(d)}); each of ${heads} heads mixes the earlier positions' values by softmax(q·kᵀ/√${d / heads}) with future positions masked; c_proj maps back to ${n(d)}`, COLOURS.attention),
    box(6.6, "+  residual add", "The attention output is added to the stream", COLOURS.add),
    box(7.8, "ln_2  LayerNorm", "Normalizes the stream again before the MLP", COLOURS.norm),
    box(9.0, `MLP  ${n(d)} → ${n(inner)} → GELU → ${n(d)}`, `c_fc widens each position to ${n(inner)}, GELU bends it, c_proj narrows it back; positions do not mix here`, COLOURS.mlp),
    box(10.2, "+  residual add", "The MLP output is added to the stream; the next block reads the result", COLOURS.add),
    box(11.8, "ln_f  LayerNorm", "A last normalization of the stream", COLOURS.norm),
    box(13.0, `lm_head  ${n(d)} → ${n(vocab)}  (tied to wte)`, `One score (logit) per vocabulary token: the stream times the token embedding, transposed`, COLOURS.head),
    box(14.2, `softmax  →  ${n(vocab)} probabilities`, "The last position's logits become a probability for every next token", COLOURS.head),
    box(15.4, "choose: greedy, or sample (temperature, top-k, top-p)", "Take the likeliest token, or draw one from the reshaped distribution", COLOURS.data),
    box(16.6, "append the new token to the ids", "The sequence is one token longer; repeat from the top", COLOURS.data),
  ];
  const shapes: Record<string, unknown>[] = boxes.map((b) => ({
    type: "rect",
    x0: b.x - b.width / 2,
    x1: b.x + b.width / 2,
    y0: b.y - HEIGHT / 2,
    y1: b.y + HEIGHT / 2,
    fillcolor: b.colour,
    line: { color: "#555", width: 1 },
    layer: "below",
  }));
  // The repeated block, framed, with its count.
  shapes.push({ type: "rect", x0: 2.2, x1: 7.8, y0: 3.65, y1: 10.75, line: { color: "#333", width: 2, dash: "dot" }, layer: "below" });
  const arrow = (x: number, from: number, to: number, ax = x) => ({
    x, y: to, ax, ay: from, xref: "x", yref: "y", axref: "x", ayref: "y", showarrow: true, arrowhead: 2, arrowsize: 1, arrowwidth: 1.5, arrowcolor: "#555", text: "",
  });
  const flow = [0, 2.8, 4.2, 5.4, 6.6, 7.8, 9.0, 10.2, 11.8, 13.0, 14.2, 15.4, 16.6];
  const annotations: Record<string, unknown>[] = [
    ...boxes.map((b) => ({ x: b.x, y: b.y, text: b.label, showarrow: false, font: { size: 12 } })),
    { x: 7.9, y: 4.0, text: `<b>× ${layers}</b> blocks`, showarrow: false, xanchor: "left", font: { size: 13 } },
    // Residual connections: the stream goes around each sub-block.
    arrow(2.45, 3.75, 6.6),
    arrow(2.45, 7.2, 10.2),
    { x: 2.3, y: 5.2, text: "residual", textangle: -90, showarrow: false, font: { size: 11, color: "#555" } },
    // The loop back: the new token becomes part of the input.
    { ...arrow(9.2, 16.6, 0, 9.2) },
    { x: 9.45, y: 8.3, text: "auto-regressive: feed the longer sequence back in", textangle: -90, showarrow: false, font: { size: 11, color: "#555" } },
  ];
  for (let i = 0; i + 1 < flow.length; i++) {
    if (flow[i] === 0) {
      annotations.push(arrow(3.4, 0.4, 1.0, 4.6), arrow(7.2, 0.4, 1.0, 5.4), arrow(5, 1.8, 2.4, 3.4), arrow(5, 1.8, 2.4, 7.2));
      continue;
    }
    annotations.push(arrow(5, flow[i] + HEIGHT / 2, flow[i + 1] - HEIGHT / 2));
  }
  annotations.push({ x: 9.2, y: 16.6, ax: 7.5, ay: 16.6, xref: "x", yref: "y", axref: "x", ayref: "y", showarrow: true, arrowhead: 0, arrowwidth: 1.5, arrowcolor: "#555", text: "" });
  annotations.push({ x: 7.5, y: 0, ax: 9.2, ay: 0, xref: "x", yref: "y", axref: "x", ayref: "y", showarrow: true, arrowhead: 2, arrowwidth: 1.5, arrowcolor: "#555", text: "" });
  return {
    data: [
      {
        // Invisible points at the box centres carry the hover text.
        type: "scatter",
        mode: "markers",
        x: boxes.map((b) => b.x),
        y: boxes.map((b) => b.y),
        marker: { size: 30, opacity: 0 },
        text: boxes.map((b) => b.hover),
        hovertemplate: "%{text}<extra></extra>",
      },
    ],
    layout: {
      title: { text: `GPT-2 with ${layers} blocks<br><sub>${heads} heads, ${n(d)} wide, ${n(inner)} in the MLP, ${n(vocab)} outputs</sub>` },
      height: 760,
      xaxis: { range: [1.2, 10.2], visible: false, fixedrange: true },
      yaxis: { range: [17.3, -0.7], visible: false, fixedrange: true },
      shapes,
      annotations,
      margin: { t: 70, l: 10, r: 10, b: 10 },
      showlegend: false,
    },
  };
}
