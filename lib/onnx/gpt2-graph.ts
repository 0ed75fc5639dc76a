// GPT-2 as an ONNX graph, with the decoder signature of Hugging Face Optimum's exports, so the same
// session code runs our graphs and the Hub's: inputs input_ids, attention_mask, position_ids and
// past_key_values.{i}.key|value [batch, heads, past, head_dim]; outputs logits and present.{i}.*.
// Follows transformers' GPT2Model: pre-LN blocks, fused q|k|v projection, gelu_new, tied lm_head.
// Written in the forms onnxruntime's optimizer fuses (Gemm with bias on [tokens, d] rows, Pow-based
// gelu → FastGelu, scaled QKᵀ → FusedMatMul). Attention comes in two forms: standard ONNX operators
// (the form of Optimum's exports, which any ONNX runtime runs), or one onnxruntime MultiHeadAttention
// operator per layer (com.microsoft; CPU, CUDA and WebGPU kernels) in place of some 14 small ones.
// Options: float16 or 8-bit weights, an extra `logits_to_keep` input (as transformers'
// `logits_to_keep`) so decoding computes only the last position's logits, and a cache split into a
// settled and a recent part so that a step returns only the newest keys and values. Dropout is left out.
import { onnx } from "onnx-proto";
import { type Gpt2Config, innerSize } from "../config";
import type { Checkpoint, ParameterSpec } from "../weights/checkpoint";
import { floatsToHalves } from "../weights/float16";
import { GraphBuilder } from "./graph-builder";
import { quantizeColumns, transpose, type QuantizedMatrix } from "./quantize";

const DataType = onnx.TensorProto.DataType;

/** How the weights are stored and multiplied. */
export type WeightDtype = "fp32" | "fp16" | "int8";
export const WEIGHT_DTYPES: readonly WeightDtype[] = ["fp32", "fp16", "int8"];

export interface Gpt2GraphOptions {
  /**
   * `fp32`: float32 throughout. `fp16`: float16 weights, activations and cache (GPU providers),
   * logits still float32. `int8`: the matrices of every block and the output head as 8-bit integers
   * with per-column scales, multiplied by DynamicQuantizeMatMul (CPU); the rest float32.
   * @default "fp32"
   */
  dtype?: WeightDtype;
  /**
   * Add an int64 scalar input `logits_to_keep`: logits are computed for the last that many positions
   * of each row only (0 = all). Off, the graph has exactly Optimum's signature. @default false
   */
  logitsToKeep?: boolean;
  /**
   * `standard`: attention from standard ONNX operators, as Optimum exports it. `fused`: one
   * com.microsoft MultiHeadAttention per layer (onnxruntime only); same results, less time per step.
   * @default "standard"
   */
  attention?: "standard" | "fused";
  /**
   * With fused attention, keep the cache on the caller's side in two parts, so that a step returns
   * only the newest keys and values: `past_key_values.{i}.*` [batch, heads, past, head_dim], which
   * changes rarely, and `recent.{i}.*` [batch, recent, n_embd], the positions since; the outputs
   * `recent_out.{i}.*` are the recent ones with this run's appended. onnxruntime-node copies every
   * output into new memory, so returning the whole cache each step (`present.{i}.*`) costs time
   * that grows with its length. @default false
   */
  cacheWindow?: boolean;
}

/** Stands in for -infinity on masked attention scores, as transformers does (finfo(dtype).min). */
const MASKED_SCORE = { fp32: -3.4028234663852886e38, fp16: -65504 };

/** Describes the whole GPT-2 graph; weights are read from `checkpoint` only when written. */
export function buildGpt2Graph(
  config: Gpt2Config,
  checkpoint: Checkpoint,
  { dtype = "fp32", logitsToKeep = false, attention = "standard", cacheWindow = false }: Gpt2GraphOptions = {},
): GraphBuilder {
  if (cacheWindow && attention !== "fused") throw new RangeError("`cacheWindow` needs `attention: 'fused'`");
  const g = new GraphBuilder();
  const d = config.n_embd;
  const heads = config.n_head;
  const headDim = d / heads;
  const vocab = config.vocab_size;
  // The element type of activations, the cache and (except int8 matrices) weights.
  const FLOAT = dtype === "fp16" ? DataType.FLOAT16 : DataType.FLOAT;
  const INT64 = DataType.INT64;
  const read = (name: string, shape: number[]) => checkpoint.read({ name, shape } satisfies ParameterSpec);
  const stored = (values: Float32Array) => (dtype === "fp16" ? floatsToHalves(values) : values);
  const weight = (name: string, shape: number[]) => g.weight({ name, shape, dataType: FLOAT, read: () => stored(read(name, shape)) });
  const constant = (value: number) => g.float([value], [], FLOAT);
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

  const inputIds = g.input("input_ids", INT64, ["batch_size", "sequence_length"]);
  const attentionMask = g.input("attention_mask", INT64, ["batch_size", "total_length"]);
  const positionIds = g.input("position_ids", INT64, ["batch_size", "sequence_length"]);
  const keep = logitsToKeep ? g.input("logits_to_keep", INT64, []) : null;
  g.output("logits", DataType.FLOAT, ["batch_size", logitsToKeep ? "kept_length" : "sequence_length", vocab]);

  // The output head is tied to the token embedding and stored once, transposed to [d, vocab] so that
  // the head is a plain MatMul; the embedding gathers its columns: wteᵀ[:, id] is token id's row.
  const wteT = () => transpose(read("wte.weight", [vocab, d]), vocab, d);
  const shapeBS = g.op1("Shape", [inputIds]); // [batch, seq]
  let head: (rows: string, output?: string) => string;
  let tokens: string;
  if (dtype === "int8") {
    const q = int8Weight("wte.weight.T", d, vocab, wteT);
    head = (rows, output) => g.op1("com.microsoft:DynamicQuantizeMatMul", [rows, q.values, q.scales], {}, output);
    const columns = g.op1("Cast", [g.op1("Gather", [q.values, inputIds], { axis: 1 })], { to: DataType.FLOAT }); // [d, batch, seq]
    const scales = g.op1("Unsqueeze", [g.op1("Gather", [q.scales, inputIds], { axis: 0 }), g.int64([-1])]); // [batch, seq, 1]
    tokens = g.op1("Mul", [g.op1("Transpose", [columns], { perm: [1, 2, 0] }), scales]);
  } else {
    const table = g.weight({ name: "wte.weight.T", shape: [d, vocab], dataType: FLOAT, read: () => stored(wteT()) });
    head = (rows, output) => g.op1("MatMul", [rows, table], {}, output);
    tokens = g.op1("Transpose", [g.op1("Gather", [table, inputIds], { axis: 1 })], { perm: [1, 2, 0] });
  }

  // Embeddings: token rows plus position rows, then flattened to one row per token: [batch·seq, d].
  const positions = g.op1("Gather", [weight("wpe.weight", [config.n_positions, d]), positionIds], { axis: 0 });
  let x = g.op1("Reshape", [g.op1("Add", [tokens, positions]), g.int64([-1, d])]);

  const rowsBSD = g.op1("Concat", [shapeBS, g.int64([d])], { axis: 0 }); // [batch, seq, d]
  const rowsOfD = g.int64([-1, d]);
  const attend = attention === "fused" ? fusedAttention() : standardAttention();

  // Attention over q|k|v rows [tokens, 3d] with layer i's cache, as standard ONNX operators. The mask
  // every layer shares: query i (at absolute index past + i) sees key j when j <= past + i and key j
  // is not padding. Shape [batch, 1, seq, total], broadcast over heads.
  function standardAttention() {
    const zero = g.int64([0], []);
    const one = g.int64([1], []);
    const seqLength = g.op1("Gather", [shapeBS, one], { axis: 0 });
    const totalLength = g.op1("Gather", [g.op1("Shape", [attentionMask]), one], { axis: 0 });
    const keyIndex = g.op1("Range", [zero, totalLength, one]); // [total]
    const queryIndex = g.op1("Range", [g.op1("Sub", [totalLength, seqLength]), totalLength, one]); // [seq]
    const causal = g.op1("LessOrEqual", [
      g.op1("Unsqueeze", [keyIndex, g.int64([0])]),
      g.op1("Unsqueeze", [queryIndex, g.int64([1])]),
    ]); // [seq, total]
    const notPadding = g.op1("Unsqueeze", [g.op1("Cast", [attentionMask], { to: DataType.BOOL }), g.int64([1, 2])]);
    const visible = g.op1("And", [causal, notPadding]); // [batch, 1, seq, total]
    const maskedScore = constant(dtype === "fp16" ? MASKED_SCORE.fp16 : MASKED_SCORE.fp32);
    const scale = constant(1 / Math.sqrt(headDim));
    const splitHeads = g.op1("Concat", [shapeBS, g.int64([heads, headDim])], { axis: 0 }); // [batch, seq, heads, headDim]
    return (qkv: string, i: number): string => {
      // Split into heads [batch, heads, seq, headDim]; append this step's keys and values to the cache.
      const [q, k, v] = g
        .op("Split", [qkv, g.int64([d, d, d])], { axis: 1 }, 3)
        .map((t) => g.op1("Transpose", [g.op1("Reshape", [t, splitHeads])], { perm: [0, 2, 1, 3] }));
      const [pastKey, pastValue] = layerCache(i);
      const key = g.op1("Concat", [pastKey, k], { axis: 2 }, `present.${i}.key`);
      const value = g.op1("Concat", [pastValue, v], { axis: 2 }, `present.${i}.value`);
      // Scaled dot-product attention with the shared mask.
      const scores = g.op1("Mul", [g.op1("MatMul", [q, g.op1("Transpose", [key], { perm: [0, 1, 3, 2] })]), scale]);
      const weights = g.op1("Softmax", [g.op1("Where", [visible, scores, maskedScore])], { axis: -1 });
      return g.op1("Reshape", [g.op1("Transpose", [g.op1("MatMul", [weights, value])], { perm: [0, 2, 1, 3] }), rowsOfD]);
    };
  }

  // The same attention as one MultiHeadAttention per layer: q, k and v as [batch, seq, d], the padding
  // mask as int32 (1 = token, 0 = padding). The operator adds the causal mask itself (unidirectional)
  // and -10000 (mask_filter_value) to masked scores, whose softmax weight then underflows to 0.
  function fusedAttention() {
    const keyPadding = g.op1("Cast", [attentionMask], { to: DataType.INT32 });
    return (qkv: string, i: number): string => {
      let [q, k, v] = g.op("Split", [qkv, g.int64([d, d, d])], { axis: 1 }, 3).map((t) => g.op1("Reshape", [t, rowsBSD]));
      if (!cacheWindow) {
        const [pastKey, pastValue] = layerCache(i);
        const [attended] = g.op("com.microsoft:MultiHeadAttention", [q, k, v, "", keyPadding, "", pastKey, pastValue], { num_heads: heads, unidirectional: 1 }, [
          `attention.${i}`,
          `present.${i}.key`,
          `present.${i}.value`,
        ]);
        return g.op1("Reshape", [attended, rowsOfD]);
      }
      // The recent positions go in as this run's keys and values beside the new ones (a query sees
      // every earlier key; the causal mask only matters among the new positions of a prompt run,
      // which has no recent ones), and come back out with the new ones appended.
      const past = ["key", "value"].map((kv) => g.input(`past_key_values.${i}.${kv}`, FLOAT, ["batch_size", heads, "past_sequence_length", headDim]));
      [k, v] = [k, v].map((t, j) => {
        const kv = j === 0 ? "key" : "value";
        const recent = g.input(`recent.${i}.${kv}`, FLOAT, ["batch_size", "recent_length", d]);
        g.output(`recent_out.${i}.${kv}`, FLOAT, ["batch_size", "recent_total_length", d]);
        return g.op1("Concat", [recent, t], { axis: 1 }, `recent_out.${i}.${kv}`);
      });
      // The operator reads the past only when it also writes the present (kept inside onnxruntime).
      const [attended] = g.op("com.microsoft:MultiHeadAttention", [q, k, v, "", keyPadding, "", past[0], past[1]], { num_heads: heads, unidirectional: 1 }, [
        `attention.${i}`,
        `present.${i}.key`,
        `present.${i}.value`,
      ]);
      return g.op1("Reshape", [attended, rowsOfD]);
    };
  }

  // Layer i's cache: past_key_values.i.* in, present.i.* out, [batch, heads, length, headDim].
  function layerCache(i: number): [string, string] {
    for (const kv of ["key", "value"]) g.output(`present.${i}.${kv}`, FLOAT, ["batch_size", heads, "total_length", headDim]);
    return [
      g.input(`past_key_values.${i}.key`, FLOAT, ["batch_size", heads, "past_sequence_length", headDim]),
      g.input(`past_key_values.${i}.value`, FLOAT, ["batch_size", heads, "past_sequence_length", headDim]),
    ];
  }

  // y = x·W + b on [tokens, in] rows: Gemm (fp32, fp16) or 8-bit weights with the bias fused (int8).
  const linear = (input: string, prefix: string, inSize: number, outSize: number) => {
    const bias = weight(`${prefix}.bias`, [outSize]);
    if (dtype !== "int8") return g.op1("Gemm", [input, weight(`${prefix}.weight`, [inSize, outSize]), bias]);
    const q = int8Weight(`${prefix}.weight`, inSize, outSize, () => read(`${prefix}.weight`, [inSize, outSize]));
    return g.op1("com.microsoft:DynamicQuantizeMatMul", [input, q.values, q.scales, "", bias]);
  };
  const layerNorm = (input: string, prefix: string) =>
    g.op1("LayerNormalization", [input, weight(`${prefix}.weight`, [d]), weight(`${prefix}.bias`, [d])], {
      axis: -1,
      epsilon: config.layer_norm_epsilon,
    });

  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}`;
    const qkv = linear(layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`, d, 3 * d);
    const attended = attend(qkv, i);
    x = g.op1("Add", [x, linear(attended, `${h}.attn.c_proj`, d, d)]);
    // MLP with gelu_new: 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), in the form onnxruntime fuses.
    const inner = innerSize(config);
    const u = linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`, d, inner);
    const cube = g.op1("Pow", [u, constant(3)]);
    const tanh = g.op1("Tanh", [g.op1("Mul", [g.op1("Add", [u, g.op1("Mul", [cube, constant(0.044715)])]), constant(Math.sqrt(2 / Math.PI))])]);
    const gelu = g.op1("Mul", [g.op1("Mul", [u, constant(0.5)]), g.op1("Add", [tanh, constant(1)])]);
    x = g.op1("Add", [x, linear(gelu, `${h}.mlp.c_proj`, inner, d)]);
  }

  // Output head: logits = ln_f(x) · wteᵀ, back in [batch, seq, vocab]; with `logits_to_keep`, only
  // the last positions of each row go through the head (Slice from -keep; -0 = 0 keeps them all).
  let final = g.op1("Reshape", [layerNorm(x, "ln_f"), rowsBSD]);
  if (keep) {
    const start = g.op1("Neg", [g.op1("Reshape", [keep, g.int64([1])])]);
    final = g.op1("Slice", [final, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  }
  if (dtype === "fp16") g.op1("Cast", [head(final)], { to: DataType.FLOAT }, "logits");
  else head(final, "logits");
  return g;
}
