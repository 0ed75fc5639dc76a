// The inputs and outputs of the intervention pass (`intervene` in gpt2-graph.ts): the graph that
// answers "what if": heads scaled (0 switches a head off, as Hugging Face's `head_mask` does) or
// their outputs replaced, MLPs scaled, the residual stream replaced at chosen layers and positions;
// and, for direct logit attribution, what each head and MLP writes into the stream at the last
// position. Each batch row is one experiment on the same prompt; the replacement values (a clean
// run's heads and residual stream) come once and are broadcast over the rows.
import { onnx } from "onnx-proto";
import type { Gpt2Config } from "../config";
import type { GraphBuilder } from "./graph-builder";
import type { Gpt2Weights } from "./graph-weights";

const { FLOAT, INT64 } = onnx.TensorProto.DataType;

/** Where the decoder graph lets the intervention pass in. */
export interface InterventionHooks {
  /** Attention weights [batch, heads, seq, seq] of layer i, scaled per head; also returned. */
  weights(weights: string, i: number): string;
  /** Head outputs [batch, heads, seq, headDim] of layer i (weights · values), replaced where asked; also returned. */
  heads(z: string, i: number, projection: string): string;
  /** The MLP's output rows [batch·seq, d] of layer i, scaled. */
  mlp(rows: string, i: number): string;
  /** The residual stream rows [batch·seq, d] entering block i (n_layer: entering ln_f), replaced where asked; also returned. */
  residual(rows: string, i: number): string;
  /** The remaining outputs: attention biases, ln_f's parameters and the target tokens' embedding rows. */
  finish(attentionBiases: string[]): void;
}

export function interventionHooks(g: GraphBuilder, config: Gpt2Config, w: Gpt2Weights, rowsBSD: string): InterventionHooks {
  const { n_layer: layers, n_head: heads, n_embd: d } = config;
  const headDim = d / heads;
  const headScale = g.input("head_scale", FLOAT, ["batch_size", layers, heads]);
  const headPatchMask = g.input("head_patch_mask", FLOAT, ["batch_size", layers, heads]);
  const headPatch = g.input("head_patch", FLOAT, ["patch_rows", layers, heads, "sequence_length", headDim]);
  const mlpScale = g.input("mlp_scale", FLOAT, ["batch_size", layers]);
  const residualPatchMask = g.input("residual_patch_mask", FLOAT, ["batch_size", layers + 1, "sequence_length"]);
  const residualPatch = g.input("residual_patch", FLOAT, ["patch_rows", layers + 1, "sequence_length", d]);
  const targetIds = g.input("target_ids", INT64, [1, "targets"]);
  const rows = g.int64([-1, d]);
  // Layer i's slice of a [batch, layers, ...] input, unsqueezed to broadcast over `axes`.
  const layerOf = (input: string, i: number, axes: number[]) => {
    const slice = g.op1("Gather", [input, g.int64([i], [])], { axis: 1 });
    return axes.length ? g.op1("Unsqueeze", [slice, g.int64(axes)]) : slice;
  };
  // x + mask · (values − x): the values where mask is 1, x where it is 0.
  const replace = (x: string, mask: string, values: string) => g.op1("Add", [x, g.op1("Mul", [mask, g.op1("Sub", [values, x])])]);
  const output = (value: string, name: string, dims: (number | string)[]) => {
    g.output(name, FLOAT, dims);
    return g.op1("Identity", [value], {}, name);
  };

  return {
    weights(weights, i) {
      const scaled = g.op1("Mul", [weights, layerOf(headScale, i, [2, 3])]);
      return output(scaled, `attentions.${i}`, ["batch_size", heads, "sequence_length", "sequence_length"]);
    },
    heads(z, i, projection) {
      const patched = replace(z, layerOf(headPatchMask, i, [2, 3]), layerOf(headPatch, i, []));
      output(patched, `head_outputs.${i}`, ["batch_size", heads, "sequence_length", headDim]);
      // What each head writes into the stream at the last position: its slice of c_proj.
      const last = g.op1("Slice", [patched, g.int64([-1]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([2])]); // [batch, heads, 1, headDim]
      const perHead = g.op1("Reshape", [projection, g.int64([heads, headDim, d])]);
      output(g.op1("Squeeze", [g.op1("MatMul", [last, perHead]), g.int64([2])]), `head_writes.${i}`, ["batch_size", heads, d]);
      return patched;
    },
    mlp(out, i) {
      const scaled = g.op1("Mul", [g.op1("Reshape", [out, rowsBSD]), layerOf(mlpScale, i, [1, 2])]);
      const last = g.op1("Gather", [scaled, g.int64([-1], [])], { axis: 1 });
      output(last, `mlp_writes.${i}`, ["batch_size", d]);
      return g.op1("Reshape", [scaled, rows]);
    },
    residual(x, i) {
      const stream = g.op1("Reshape", [x, rowsBSD]);
      const patched = replace(stream, layerOf(residualPatchMask, i, [2]), layerOf(residualPatch, i, []));
      output(patched, `hidden_states.${i}`, ["batch_size", "sequence_length", d]);
      return g.op1("Reshape", [patched, rows]);
    },
    finish(attentionBiases) {
      const stacked = g.op1("Concat", attentionBiases.map((b) => g.op1("Unsqueeze", [b, g.int64([0])])), { axis: 0 });
      output(stacked, "attention_biases", [layers, d]);
      output("ln_f.weight", "ln_f_weight", [d]);
      output("ln_f.bias", "ln_f_bias", [d]);
      output(g.op1("Squeeze", [w.tokenEmbedding(targetIds), g.int64([0])]), "target_rows", ["targets", d]);
    },
  };
}
