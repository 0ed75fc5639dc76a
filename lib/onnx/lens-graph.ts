// The logit lens (nostalgebraist, 2020) as a small ONNX graph over the model's own final LayerNorm
// and tied output head: any residual-stream state, read as if the model ended there. For each row
// [d] it returns the `top` likeliest tokens with their probabilities, and the probability and rank
// of one target token, so that the [rows, vocab] logits never leave onnxruntime.
import { onnx } from "onnx-proto";
import type { Gpt2Config } from "../config";
import type { Checkpoint } from "../weights/checkpoint";
import { GraphBuilder } from "./graph-builder";
import { gpt2Weights, type WeightDtype } from "./graph-weights";

const DataType = onnx.TensorProto.DataType;

/**
 * Inputs `hidden_states` [rows, d] (float32), `targets` [rows] (int64 token ids) and `top` [1]
 * (int64, at most vocab); outputs `top_ids` [rows, top] (likeliest first, ties to the lower id, as
 * ONNX TopK), `top_probs` [rows, top], `target_probs` [rows] and `target_ranks` [rows] (how many
 * tokens have a higher logit than the target: 0 = the likeliest, as `rankOf`).
 */
export function buildLensGraph(config: Gpt2Config, checkpoint: Checkpoint, dtype: WeightDtype = "fp32"): GraphBuilder {
  const g = new GraphBuilder();
  const w = gpt2Weights(g, config, checkpoint, dtype);
  const states = g.input("hidden_states", DataType.FLOAT, ["rows", config.n_embd]);
  const targets = g.input("targets", DataType.INT64, ["rows"]);
  const top = g.input("top", DataType.INT64, [1]);
  const rows = w.FLOAT === DataType.FLOAT ? states : g.op1("Cast", [states], { to: w.FLOAT });
  let logits = w.head(w.layerNorm(rows, "ln_f"));
  if (w.FLOAT !== DataType.FLOAT) logits = g.op1("Cast", [logits], { to: DataType.FLOAT });
  const logZ = g.op1("ReduceLogSumExp", [logits], { axes: [1], keepdims: 1 }); // [rows, 1]
  const [values] = g.op("TopK", [logits, top], { axis: 1, largest: 1, sorted: 1 }, ["top_values", "top_ids"]);
  g.op1("Exp", [g.op1("Sub", [values, logZ])], {}, "top_probs");
  const target = g.op1("GatherElements", [logits, g.op1("Unsqueeze", [targets, g.int64([1])])], { axis: 1 }); // [rows, 1]
  g.op1("Reshape", [g.op1("Exp", [g.op1("Sub", [target, logZ])]), g.int64([-1])], {}, "target_probs");
  const ahead = g.op1("Cast", [g.op1("Greater", [logits, target])], { to: DataType.INT64 });
  g.op1("ReduceSum", [ahead, g.int64([1])], { keepdims: 0 }, "target_ranks");
  g.output("top_ids", DataType.INT64, ["rows", "top"]);
  g.output("top_probs", DataType.FLOAT, ["rows", "top"]);
  g.output("target_probs", DataType.FLOAT, ["rows"]);
  g.output("target_ranks", DataType.INT64, ["rows"]);
  return g;
}
