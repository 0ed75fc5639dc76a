// The hypotheses of a beam search as a tree over the steps: one column per step, one row per beam
// kept (row 0 the best running sum), the hypotheses that ended with <|endoftext|> in rows below.
// Each node is labelled with its token and, under it, the token's probability; the paths of the
// returned sequences are drawn in colour, every other branch in grey; hovering shows the running
// score. Each step gets a fixed 70 px, so the labels stay apart however many steps there are.
import { invalid } from "../checks";
import type { BeamTree } from "../generate/beam-search";
import { type PlotlyFigure, shortLabel, tokenLabel } from "./figure";

const KEPT_COLOUR = "#d62728";
const OTHER_COLOUR = "#b0b7c0";
const ENDED_COLOUR = "#7f7f7f";

/**
 * Draws `result.beams[i]` from `generate` with `numBeams` > 1. The returned sequences' paths are
 * highlighted; ended hypotheses (✕) sit below the running beams, in the column of the step that
 * ended them.
 */
export function beamTreeFigure(tree: BeamTree, { title = "Beam search, step by step" }: { title?: string } = {}): PlotlyFigure {
  if (!tree || !Array.isArray(tree.steps) || !Array.isArray(tree.returned) || tree.steps.length === 0) {
    throw invalid(TypeError, "tree", "one entry of `result.beams` from `generate` with `numBeams` above 1", tree);
  }
  const beams = tree.steps[0].kept.length;
  const row = (index: number, finished: boolean) => (finished ? beams + index : index);
  // The nodes on a returned path, as "step:row".
  const onPath = new Set<string>(["-1:0"]);
  for (const end of tree.returned) {
    let index = end.index;
    let finished = end.finished;
    for (let step = end.step; step >= 0; step--) {
      onPath.add(`${step}:${row(index, finished)}`);
      const node = finished ? tree.steps[step].finished[index] : tree.steps[step].kept[index];
      index = node.parent;
      finished = false;
    }
  }
  const edges = { kept: { x: [] as (number | null)[], y: [] as (number | null)[] }, other: { x: [] as (number | null)[], y: [] as (number | null)[] } };
  const nodes = { x: [] as number[], y: [] as number[], text: [] as string[], hover: [] as string[], colour: [] as string[], symbol: [] as string[] };
  nodes.x.push(0);
  nodes.y.push(0);
  nodes.text.push("prompt");
  nodes.hover.push("the prompt");
  nodes.colour.push(KEPT_COLOUR);
  nodes.symbol.push("square");
  tree.steps.forEach((step, t) => {
    const add = (node: (typeof step.kept)[number], at: number, finished: boolean, score?: number) => {
      const fromRow = t === 0 ? 0 : node.parent;
      const highlighted = onPath.has(`${t}:${at}`) && onPath.has(`${t - 1}:${fromRow}`);
      const edge = highlighted ? edges.kept : edges.other;
      edge.x.push(t, t + 1, null);
      edge.y.push(fromRow, at, null);
      const label = tokenLabel(node.text);
      nodes.x.push(t + 1);
      nodes.y.push(at);
      // Long tokens are cut to fit their 70 px; hovering shows them whole.
      nodes.text.push(`${shortLabel(label, 9)}<br>${Math.exp(node.logProb).toFixed(2)}`);
      nodes.hover.push(
        `step ${t + 1}: ${JSON.stringify(label)}, p = ${Math.exp(node.logProb).toFixed(4)}<br>running sum of log-probabilities ${node.sum.toFixed(3)}` +
          (score === undefined ? "" : `<br>ended: score ${score.toFixed(4)} = sum / (new tokens)^${tree.lengthPenalty}`),
      );
      nodes.colour.push(finished ? ENDED_COLOUR : onPath.has(`${t}:${at}`) ? KEPT_COLOUR : OTHER_COLOUR);
      nodes.symbol.push(finished ? "x" : "circle");
    };
    step.kept.forEach((node, b) => add(node, b, false));
    step.finished.forEach((node, j) => add(node, row(j, true), true, node.score));
  });
  const rows = beams + Math.max(0, ...tree.steps.map((s) => s.finished.length));
  const line = (e: typeof edges.kept, colour: string, width: number, name: string) => ({
    type: "scatter" as const,
    mode: "lines" as const,
    x: e.x,
    y: e.y,
    name,
    line: { color: colour, width },
    hoverinfo: "skip" as const,
  });
  return {
    data: [
      line(edges.other, OTHER_COLOUR, 1.5, "dropped branch"),
      line(edges.kept, KEPT_COLOUR, 3, "returned sequence"),
      {
        type: "scatter",
        mode: "text+markers",
        x: nodes.x,
        y: nodes.y,
        text: nodes.text,
        textposition: "top center",
        cliponaxis: false,
        textfont: { size: 11 },
        customdata: nodes.hover,
        hovertemplate: "%{customdata}<extra></extra>",
        marker: { color: nodes.colour, symbol: nodes.symbol, size: 9 },
        name: "token and its probability (✕: ended with <|endoftext|>)",
      },
    ],
    layout: {
      title: { text: title },
      height: Math.max(320, 80 * rows + 160),
      // A fixed width with room for each step's labels, so that they never overlap: a long search
      // scrolls sideways in its cell instead of squeezing 20 steps into the column.
      width: Math.max(600, 160 + 70 * (tree.steps.length + 1)),
      xaxis: { title: { text: "step (0 = the prompt)" }, dtick: 1, range: [-0.5, tree.steps.length + 0.8] },
      yaxis: {
        title: { text: "hypothesis (0 = best running score)" },
        autorange: "reversed",
        tickvals: Array.from({ length: rows }, (_, r) => r),
        ticktext: Array.from({ length: rows }, (_, r) => (r < beams ? `beam ${r}` : "ended")),
        range: [rows - 0.4, -1],
      },
      legend: { orientation: "h", y: -0.18 },
      margin: { t: 60, b: 90 },
    },
  };
}
