// GPT-2 as an ONNX graph, with the decoder signature of Hugging Face Optimum's exports, so the same
// session code runs our graphs and the Hub's: inputs input_ids, attention_mask, position_ids and
// past_key_values.{i}.key|value [batch, heads, past, head_dim]; outputs logits and present.{i}.*.
// Follows transformers' GPT2Model: pre-LN blocks, fused q|k|v projection, gelu_new, tied lm_head.
// Dropout is left out (inference only); plain ops only, so onnxruntime's optimizer can fuse them.
import { onnx } from "onnx-proto";
import { type Gpt2Config, innerSize } from "../config";
import type { Checkpoint, ParameterSpec } from "../weights";
import { GraphBuilder } from "./graph-builder";

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
/** Stands in for -infinity on masked attention scores, as transformers does (finfo(float32).min). */
const MASKED_SCORE = -3.4028234663852886e38;

/** Describes the whole GPT-2 graph; weights are read from `checkpoint` only when written. */
export function buildGpt2Graph(config: Gpt2Config, checkpoint: Checkpoint): GraphBuilder {
  const g = new GraphBuilder();
  const d = config.n_embd;
  const heads = config.n_head;
  const headDim = d / heads;
  const weight = (name: string, shape: number[]) => {
    const spec: ParameterSpec = { name, shape };
    return g.weight({ name, shape, read: () => checkpoint.read(spec) });
  };

  const inputIds = g.input("input_ids", INT64, ["batch_size", "sequence_length"]);
  const attentionMask = g.input("attention_mask", INT64, ["batch_size", "total_length"]);
  const positionIds = g.input("position_ids", INT64, ["batch_size", "sequence_length"]);
  g.output("logits", FLOAT, ["batch_size", "sequence_length", config.vocab_size]);

  // Embeddings: token rows plus position rows.
  const wte = weight("wte.weight", [config.vocab_size, d]);
  const tokens = g.op1("Gather", [wte, inputIds], { axis: 0 });
  const positions = g.op1("Gather", [weight("wpe.weight", [config.n_positions, d]), positionIds], { axis: 0 });
  let x = g.op1("Add", [tokens, positions]); // [batch, seq, d]

  // The mask every layer shares: query i (at absolute index past + i) sees key j when j <= past + i
  // and key j is not padding. Shape [batch, 1, seq, total], broadcast over heads.
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const seqLength = g.op1("Gather", [g.op1("Shape", [inputIds]), one], { axis: 0 });
  const totalLength = g.op1("Gather", [g.op1("Shape", [attentionMask]), one], { axis: 0 });
  const keyIndex = g.op1("Range", [zero, totalLength, one]); // [total]
  const queryIndex = g.op1("Range", [g.op1("Sub", [totalLength, seqLength]), totalLength, one]); // [seq]
  const causal = g.op1("LessOrEqual", [
    g.op1("Unsqueeze", [keyIndex, g.int64([0])]),
    g.op1("Unsqueeze", [queryIndex, g.int64([1])]),
  ]); // [seq, total]
  const notPadding = g.op1("Unsqueeze", [g.op1("Cast", [attentionMask], { to: onnx.TensorProto.DataType.BOOL }), g.int64([1, 2])]);
  const visible = g.op1("And", [causal, notPadding]); // [batch, 1, seq, total]
  const maskedScore = g.float([MASKED_SCORE], []);
  const scale = g.float([1 / Math.sqrt(headDim)], []);
  const splitHeads = g.int64([0, 0, heads, headDim]);
  const mergeHeads = g.int64([0, 0, d]);

  const linear = (input: string, prefix: string, inSize: number, outSize: number) =>
    g.op1("Add", [
      g.op1("MatMul", [input, weight(`${prefix}.weight`, [inSize, outSize])]),
      weight(`${prefix}.bias`, [outSize]),
    ]);
  const layerNorm = (input: string, prefix: string) =>
    g.op1("LayerNormalization", [input, weight(`${prefix}.weight`, [d]), weight(`${prefix}.bias`, [d])], {
      axis: -1,
      epsilon: config.layer_norm_epsilon,
    });

  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}`;
    // Attention: project to q|k|v, split into heads [batch, heads, seq, headDim].
    const qkv = linear(layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`, d, 3 * d);
    const [q, k, v] = g
      .op("Split", [qkv, g.int64([d, d, d])], { axis: 2 }, 3)
      .map((t) => g.op1("Transpose", [g.op1("Reshape", [t, splitHeads])], { perm: [0, 2, 1, 3] }));
    // The cache: this step's keys and values appended to the past ones along the sequence axis.
    const pastKey = g.input(`past_key_values.${i}.key`, FLOAT, ["batch_size", heads, "past_sequence_length", headDim]);
    const pastValue = g.input(`past_key_values.${i}.value`, FLOAT, ["batch_size", heads, "past_sequence_length", headDim]);
    const key = g.op1("Concat", [pastKey, k], { axis: 2 }, `present.${i}.key`);
    const value = g.op1("Concat", [pastValue, v], { axis: 2 }, `present.${i}.value`);
    for (const name of [key, value]) g.output(name, FLOAT, ["batch_size", heads, "total_length", headDim]);
    // Scaled dot-product attention with the shared mask.
    const scores = g.op1("Mul", [g.op1("MatMul", [q, g.op1("Transpose", [key], { perm: [0, 1, 3, 2] })]), scale]);
    const weights = g.op1("Softmax", [g.op1("Where", [visible, scores, maskedScore])], { axis: -1 });
    const attended = g.op1("Reshape", [g.op1("Transpose", [g.op1("MatMul", [weights, value])], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = g.op1("Add", [x, linear(attended, `${h}.attn.c_proj`, d, d)]);
    // MLP with gelu_new: 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))).
    const inner = innerSize(config);
    const u = linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`, d, inner);
    const cube = g.op1("Mul", [g.op1("Mul", [u, u]), u]);
    const tanh = g.op1("Tanh", [
      g.op1("Mul", [g.op1("Add", [u, g.op1("Mul", [cube, g.float([0.044715], [])])]), g.float([Math.sqrt(2 / Math.PI)], [])]),
    ]);
    const gelu = g.op1("Mul", [g.op1("Mul", [u, g.float([0.5], [])]), g.op1("Add", [tanh, g.float([1], [])])]);
    x = g.op1("Add", [x, linear(gelu, `${h}.mlp.c_proj`, inner, d)]);
  }

  // Output head tied to the token embedding: logits = ln_f(x) · wteᵀ. Gemm's transB reads wte
  // as stored, so the largest matrix is not kept twice.
  const final = layerNorm(x, "ln_f");
  const rows = g.op1("Reshape", [final, g.int64([-1, d])]);
  const logits2d = g.op1("Gemm", [rows, wte], { transB: 1 });
  const outShape = g.op1("Concat", [g.op1("Shape", [inputIds]), g.int64([config.vocab_size])], { axis: 0 });
  g.op1("Reshape", [logits2d, outShape], {}, "logits");
  return g;
}
