// How gpt2-lab's graphs store and multiply GPT-2's weights, shared by every graph of a conversion
// (the decoder, the inspection pass, the logit lens) so that they name and lay out each weight the
// same way and can share one weights file: float32, float16, or 8-bit matrices with per-column
// scales; the output head tied to the token embedding and stored once, transposed.
import { onnx } from "onnx-proto";
import type { Gpt2Config } from "../config";
import type { Checkpoint, ParameterSpec } from "../weights/checkpoint";
import { floatsToHalves } from "../weights/float16";
import type { GraphBuilder } from "./graph-builder";
import { quantizeColumns, transpose, type QuantizedMatrix } from "./quantize";

const DataType = onnx.TensorProto.DataType;

/** How the weights are stored and multiplied. */
export type WeightDtype = "fp32" | "fp16" | "int8";
export const WEIGHT_DTYPES: readonly WeightDtype[] = ["fp32", "fp16", "int8"];

/** The weight-using pieces of a GPT-2 graph, bound to one builder and one dtype. */
export interface Gpt2Weights {
  /** The element type of activations, the cache and (except int8 matrices) weights. */
  FLOAT: number;
  /** A scalar constant of that type. */
  constant(value: number): string;
  /** A weight stored as it is (converted to float16 for fp16). */
  weight(name: string, shape: number[]): string;
  /** y = x·W + b on [tokens, in] rows: Gemm (fp32, fp16) or 8-bit weights with the bias fused (int8). */
  linear(input: string, prefix: string, inSize: number, outSize: number): string;
  /** LayerNormalization over the last axis with `prefix`.weight and .bias. */
  layerNorm(input: string, prefix: string): string;
  /** rows [..., d] · wteᵀ: the output head, [..., vocab]. */
  head(rows: string, output?: string): string;
  /** The token embedding of `ids` [batch, seq]: [batch, seq, d]. */
  tokenEmbedding(ids: string): string;
}

export function gpt2Weights(g: GraphBuilder, config: Gpt2Config, checkpoint: Checkpoint, dtype: WeightDtype): Gpt2Weights {
  const d = config.n_embd;
  const vocab = config.vocab_size;
  const FLOAT = dtype === "fp16" ? DataType.FLOAT16 : DataType.FLOAT;
  const read = (name: string, shape: number[]) => checkpoint.read({ name, shape } satisfies ParameterSpec);
  const stored = (values: Float32Array) => (dtype === "fp16" ? floatsToHalves(values) : values);
  const weight = (name: string, shape: number[]) => g.weight({ name, shape, dataType: FLOAT, read: () => stored(read(name, shape)) });
  // An 8-bit matrix and its scales come from one quantization; remember the last one for the second read.
  let lastQuantized: { name: string; matrix: QuantizedMatrix } | undefined;
  const quantized = (name: string, rows: number, cols: number, values: () => Float32Array): QuantizedMatrix => {
    if (lastQuantized?.name !== name) lastQuantized = { name, matrix: quantizeColumns(values(), rows, cols) };
    return lastQuantized.matrix;
  };
  const int8Weight = (name: string, rows: number, cols: number, values: () => Float32Array) => ({
    values: g.weight({ name: `${name}.int8`, shape: [rows, cols], dataType: DataType.INT8, read: () => quantized(name, rows, cols, values).values }),
    scales: g.weight({ name: `${name}.scale`, shape: [cols], read: () => quantized(name, rows, cols, values).scales }),
  });

  // The output head is tied to the token embedding and stored once, transposed to [d, vocab] so that
  // the head is a plain MatMul; the embedding gathers its columns: wteᵀ[:, id] is token id's row.
  // Declared lazily, at first use, so each graph lists its weights in the order it uses them.
  const wteT = () => transpose(read("wte.weight", [vocab, d]), vocab, d);
  let table: string | undefined;
  let table8: { values: string; scales: string } | undefined;
  const fullTable = () => (table ??= g.weight({ name: "wte.weight.T", shape: [d, vocab], dataType: FLOAT, read: () => stored(wteT()) }));
  const int8Table = () => (table8 ??= int8Weight("wte.weight.T", d, vocab, wteT));

  return {
    FLOAT,
    constant: (value) => g.float([value], [], FLOAT),
    weight,
    linear(input, prefix, inSize, outSize) {
      const bias = weight(`${prefix}.bias`, [outSize]);
      if (dtype !== "int8") return g.op1("Gemm", [input, weight(`${prefix}.weight`, [inSize, outSize]), bias]);
      const q = int8Weight(`${prefix}.weight`, inSize, outSize, () => read(`${prefix}.weight`, [inSize, outSize]));
      return g.op1("com.microsoft:DynamicQuantizeMatMul", [input, q.values, q.scales, "", bias]);
    },
    layerNorm: (input, prefix) =>
      g.op1("LayerNormalization", [input, weight(`${prefix}.weight`, [d]), weight(`${prefix}.bias`, [d])], {
        axis: -1,
        epsilon: config.layer_norm_epsilon,
      }),
    head(rows, output) {
      if (dtype !== "int8") return g.op1("MatMul", [rows, fullTable()], {}, output);
      const q = int8Table();
      return g.op1("com.microsoft:DynamicQuantizeMatMul", [rows, q.values, q.scales], {}, output);
    },
    tokenEmbedding(ids) {
      if (dtype !== "int8") return g.op1("Transpose", [g.op1("Gather", [fullTable(), ids], { axis: 1 })], { perm: [1, 2, 0] });
      const q = int8Table();
      const columns = g.op1("Cast", [g.op1("Gather", [q.values, ids], { axis: 1 })], { to: DataType.FLOAT }); // [d, batch, seq]
      const scales = g.op1("Unsqueeze", [g.op1("Gather", [q.scales, ids], { axis: 0 }), g.int64([-1])]); // [batch, seq, 1]
      return g.op1("Mul", [g.op1("Transpose", [columns], { perm: [1, 2, 0] }), scales]);
    },
  };
}
