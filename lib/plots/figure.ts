// What a figure is in gpt2-lab: a plain plotly.js figure object ({ data, layout, frames }) that the
// builders in lib/plots return and lib/display.ts draws; being plain data, tests can inspect it without
// a browser. Also the small pieces every builder shares: readable token labels and HTML escaping.
// Left out: plotly's full type definitions (only the fields the builders set are typed).

/** One plotly trace; only the fields gpt2-lab sets are typed, the rest pass through. */
export interface PlotlyTrace {
  type: "bar" | "scatter" | "heatmap";
  name?: string;
  x?: (number | string | null)[];
  y?: (number | string | null)[];
  z?: (number | null)[][];
  [key: string]: unknown;
}

/** A plotly layout; only the fields gpt2-lab reads back are typed. */
export interface PlotlyLayout {
  title?: { text: string; [key: string]: unknown };
  height?: number;
  shapes?: Record<string, unknown>[];
  annotations?: Record<string, unknown>[];
  sliders?: PlotlySlider[];
  [key: string]: unknown;
}

/**
 * A slider whose steps animate to named frames. A figure with several sliders has steps that `skip`
 * and frames named by the sliders' labels joined with `|`; lib/display.ts animates to the frame the
 * sliders name together whenever one moves (plotly alone moves one slider's frames only).
 */
export interface PlotlySlider {
  active: number;
  steps: { label: string; method: "animate" | "skip"; args: unknown[] }[];
  [key: string]: unknown;
}

/** A named frame: new values for some traces (by index) and optionally the layout. */
export interface PlotlyFrame {
  name: string;
  data: Partial<PlotlyTrace>[];
  traces?: number[];
  layout?: PlotlyLayout;
}

/** A figure as `Plotly.newPlot(div, figure)` takes it. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: PlotlyLayout;
  frames?: PlotlyFrame[];
}

/** Turns a token id into its text, e.g. `(id) => model.tokenizer.tokenText(id)`. */
export type TokenTextFn = (id: number) => string;

/**
 * A token's text made readable on an axis: spaces as `␣`, newlines as `↵`, tabs as `⇥`, other control
 * characters as `\uXXXX`. GPT-2 tokens often start with a space (" the"), which would be invisible.
 */
export function tokenLabel(text: string): string {
  const visible = text
    .replace(/ /g, "␣")
    .replace(/\n/g, "↵")
    .replace(/\t/g, "⇥")
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return visible === "" ? "∅" : visible;
}

/**
 * Axis labels for a list of token ids: {@link tokenLabel} of each text, with ` #id` appended where two
 * labels would be equal, since plotly merges equal category labels into one bar.
 */
export function tokenLabels(ids: readonly number[], tokenText: TokenTextFn): string[] {
  const labels = ids.map((id) => tokenLabel(tokenText(id)));
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return labels.map((label, i) => (counts.get(label)! > 1 ? `${label} #${ids[i]}` : label));
}

/** `label` cut to at most `length` characters, "…" marking the cut, for a cell or a node too small for a long token (hover shows it whole). */
export function shortLabel(label: string, length: number): string {
  return label.length > length ? label.slice(0, length - 1) + "…" : label;
}

/** `i: token` for every position, unique even when a token repeats (plotly merges equal categories). */
export function positionLabels(tokens: readonly string[]): string[] {
  return tokens.map((t, i) => `${i}: ${tokenLabel(t)}`);
}

/** Plotly animation settings that jump to a frame at once, as every slider here moves. */
export const ANIMATE_NOW = { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } } as const;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * Ticks for a logarithmic probability axis: one per power of ten from 1 down to 10^-`decades`, in
 * full-size text ("0.01", "1e-5"), where plotly's own would print minor "2" and "5" labels or small
 * superscript exponents.
 */
export function logProbabilityTicks(decades = 8): { tickmode: "array"; tickvals: number[]; ticktext: string[] } {
  const tickvals = Array.from({ length: decades + 1 }, (_, k) => 10 ** -k);
  return { tickmode: "array", tickvals, ticktext: tickvals.map((v, k) => (k <= 3 ? String(Number(v.toFixed(k))) : `1e-${k}`)) };
}
