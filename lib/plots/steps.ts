// A generated sample step by step: at each step the likeliest tokens of the distribution the token
// was drawn from (a step traced by `generate` with `trace: 'top'` or `'full'`), the chosen one in
// its own colour, under a slider that moves through the steps without re-running the cell.
import { invalid } from "../checks";
import type { StepTrace } from "../sampling/choose";
import { ANIMATE_NOW, type PlotlyFigure, type PlotlyFrame, tokenLabel } from "./figure";

const CHOSEN_COLOUR = "#ff7f0e";
const OTHER_COLOUR = "#1f77b4";

/** The steps of one sample (`sample.steps`) as bars under a step slider; `title` heads every step. */
export function stepsFigure(steps: readonly StepTrace[], title = "What each step chose from"): PlotlyFigure {
  if (steps.length === 0 || !steps.every((s) => s && Array.isArray(s.top) && s.token)) {
    throw invalid(TypeError, "steps", "a sample's steps, from `generate` with `trace: 'top'` or `'full'`", steps);
  }
  const bars = Math.max(...steps.map((s) => s.top.length));
  const positions = Array.from({ length: bars }, (_, i) => i);
  const frames: PlotlyFrame[] = steps.map((step, t) => {
    // The chosen token may lie outside the listed top tokens: it then takes the last bar.
    const listed = step.top.some((e) => e.id === step.token.id) ? step.top : [...step.top.slice(0, bars - 1), step.token];
    const { text, prob, rank } = step.token;
    const heading = `${title}<br><sub>step ${t + 1} chose ${JSON.stringify(tokenLabel(text))} (probability ${prob.toFixed(3)}, rank ${rank})</sub>`;
    return {
      name: String(t),
      data: [
        {
          x: positions.slice(0, listed.length),
          y: listed.map((e) => e.prob),
          marker: { color: listed.map((e) => (e.id === step.token.id ? CHOSEN_COLOUR : OTHER_COLOUR)) },
          customdata: listed.map((e) => tokenLabel(e.text)),
        },
      ],
      traces: [0],
      layout: { title: { text: heading }, xaxis: { tickvals: positions, ticktext: listed.map((e) => tokenLabel(e.text)), tickangle: -45 } },
    };
  });
  const first = frames[0];
  return {
    data: [{ type: "bar", name: "probability", ...first.data[0], hovertemplate: "%{customdata}: %{y:.4f}<extra></extra>" }],
    layout: {
      title: { text: first.layout!.title!.text },
      height: 480,
      yaxis: { title: { text: "probability (the distribution it was drawn from)" }, range: [0, 1] },
      xaxis: { ...(first.layout!.xaxis as object), title: { text: "likeliest tokens at this step (orange: the one chosen)" } },
      margin: { b: 190 },
      sliders: [
        {
          active: 0,
          currentvalue: { prefix: "step " },
          // Below the rotated token labels and the axis title.
          pad: { t: 130 },
          steps: steps.map((_, t) => ({
            label: String(t + 1),
            method: "animate" as const,
            args: [[String(t)], ANIMATE_NOW],
          })),
        },
      ],
    },
    frames,
  };
}
