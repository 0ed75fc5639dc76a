// Generated text as HTML, each token on a background coloured by the probability it had when it was
// drawn: green for likely, red for unlikely, so surprising choices stand out. Plain HTML rather than
// plotly, since text wraps and reads better as text; hovering a token shows its probability and rank.
// Left out: colouring by entropy or by alternatives (the trace's `top` list holds them).
import { expectNumber } from "../checks";
import { escapeHtml } from "./figure";

/** One generated token: its text, the probability it was drawn with, and optionally its rank (0 = most likely). */
export interface ScoredToken {
  text: string;
  prob: number;
  rank?: number;
}

/** Options of {@link tokenProbabilityHtml}. */
export interface TokenProbabilityOptions {
  /** Text shown before the tokens, uncoloured (e.g. the prompt). @default "" */
  prompt?: string;
  /** Show the colour scale under the text. @default true */
  legend?: boolean;
}

/**
 * Background colour for a probability in [0, 1]: hue 0 (red) at 0 to hue 120 (green) at 1, linear in
 * the probability, light enough for black text.
 */
export function probabilityColour(prob: number): string {
  expectNumber(prob, "prob", "a number in [0, 1]", (p) => p >= 0 && p <= 1);
  return `hsl(${Math.round(prob * 120)}, 75%, 80%)`;
}

/**
 * A `<div>` with the prompt in grey and each token in a `<span>` coloured by {@link probabilityColour},
 * whitespace kept as generated. Pass `result.steps.map((step) => step[sample].token)` from a traced
 * `generate`.
 */
export function tokenProbabilityHtml(tokens: ScoredToken[], { prompt = "", legend = true }: TokenProbabilityOptions = {}): string {
  if (!Array.isArray(tokens)) throw new TypeError(`Expected \`tokens\` to be an array of { text, prob }, got ${typeof tokens}`);
  const spans = tokens.map(({ text, prob, rank }, i) => {
    if (typeof text !== "string") throw new TypeError(`Expected \`tokens[${i}].text\` to be a string, got ${typeof text}`);
    const rankText = rank === undefined ? "" : `, rank ${rank}`;
    const title = `p = ${prob.toFixed(4)}${rankText}`;
    return `<span title="${escapeHtml(title)}" style="background:${probabilityColour(prob)};border-radius:3px">${escapeHtml(text)}</span>`;
  });
  const scale = legend
    ? '<div style="margin-top:6px;font-size:85%;color:#555">probability: 0 ' +
      '<span style="display:inline-block;width:12em;height:0.8em;vertical-align:middle;' +
      `background:linear-gradient(to right, ${probabilityColour(0)}, ${probabilityColour(0.5)}, ${probabilityColour(1)})"></span> 1</div>`
    : "";
  return (
    '<div class="gpt2-lab-tokens" style="font-family:monospace;white-space:pre-wrap;line-height:1.6">' +
    `<span style="color:#777">${escapeHtml(prompt)}</span>${spans.join("")}</div>${scale}`
  );
}
