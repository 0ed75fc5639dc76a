// GPT-2 as an ONNX graph, with the decoder signature of Hugging Face Optimum's exports, so the same
// session code runs our graphs and the Hub's: inputs input_ids, attention_mask, position_ids and
// past_key_values.{i}.key|value [batch, heads, past, head_dim]; outputs logits and present.{i}.*.
// Follows transformers' GPT2Model: pre-LN blocks, fused q|k|v projection, gelu_new, tied lm_head.
// Written in the forms onnxruntime's optimizer fuses (Gemm with bias on [tokens, d] rows, Pow-based
// gelu → FastGelu, scaled QKᵀ → FusedMatMul). Attention comes in three forms: standard ONNX operators
// (the form of Optimum's exports, which any ONNX runtime runs); one onnxruntime MultiHeadAttention
// operator per layer (com.microsoft) in place of some 14 small ones; and, for decoding, standard
// operators over a cache split into a settled and a recent part, so that a step returns only the
// newest keys and values and never copies the rest. Options: float16 or 8-bit weights, an extra
// `logits_to_keep` input (as transformers' `logits_to_keep`) so decoding computes only the last
// position's logits; and the inspection pass, whose extra outputs show attention weights and the
// residual stream. Dropout is left out.
import { onnx } from "onnx-proto";
import { GELU, type Gpt2Config, innerSize } from "../config";
import type { Checkpoint } from "../weights/checkpoint";
import { GraphBuilder } from "./graph-builder";
import { gpt2Weights, type WeightDtype } from "./graph-weights";
import { interventionHooks } from "./intervention-graph";

export { WEIGHT_DTYPES, type WeightDtype } from "./graph-weights";

const DataType = onnx.TensorProto.DataType;

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
   * Keep the cache on the caller's side in two parts, so that a step returns only the newest keys and
   * values: `past_key_values.{i}.*` [batch, heads, past, head_dim], which changes rarely, and
   * `recent.{i}.*` [batch, heads, recent, head_dim], the positions since; the outputs
   * `recent_out.{i}.*` are the recent ones with this run's appended. Attention reads both parts where
   * they lie, from standard operators (the `attention` option does not apply): onnxruntime-node copies
   * every output into new memory, and a fused attention operator copies its past into its present,
   * so a cache returned or extended whole at each step costs time that grows with its length.
   * @default false
   */
  cacheWindow?: boolean;
  /**
   * The inspection pass: standard attention and no cache, logits for the last position only, and as
   * float32 outputs what happens inside: `attentions.{i}` [batch, heads, seq, seq] (the softmax
   * weights, masked keys exactly 0), `hidden_states.{i}` [batch, seq, d] for i in 0..n_layer (the
   * residual stream after the embeddings and after each block, before ln_f), and `attention_writes`,
   * `mlp_writes` [n_layer, batch, seq] (the L2 norm of what each sub-block adds to the stream).
   * @default false
   */
  inspect?: boolean;
  /**
   * The intervention pass (intervention-graph.ts): like `inspect` one pass without a cache and
   * logits for the last position, with inputs that scale or replace heads, MLPs and the residual
   * stream, and outputs for attribution. Float32 weights only. @default false
   */
  intervene?: boolean;
}

/** Stands in for -infinity on masked attention scores, as transformers does (finfo(dtype).min). */
const MASKED_SCORE = { fp32: -3.4028234663852886e38, fp16: -65504 };

/** Describes the whole GPT-2 graph; weights are read from `checkpoint` only when written. */
export function buildGpt2Graph(
  config: Gpt2Config,
  checkpoint: Checkpoint,
  { dtype = "fp32", logitsToKeep = false, attention = "standard", cacheWindow = false, inspect = false, intervene = false }: Gpt2GraphOptions = {},
): GraphBuilder {
  if (cacheWindow && attention !== "standard") throw new RangeError("`cacheWindow` builds its own attention; leave `attention` out");
  if ((inspect || intervene) && (attention !== "standard" || logitsToKeep || cacheWindow)) throw new RangeError("`inspect` and `intervene` need standard attention, no cache and no `logitsToKeep`");
  if (intervene && (inspect || dtype !== "fp32")) throw new RangeError("`intervene` is its own pass, with float32 weights");
  const onePass = inspect || intervene;
  const g = new GraphBuilder();
  const d = config.n_embd;
  const heads = config.n_head;
  const headDim = d / heads;
  const vocab = config.vocab_size;
  const w = gpt2Weights(g, config, checkpoint, dtype);
  const { FLOAT, constant, weight, linear, layerNorm } = w;
  const INT64 = DataType.INT64;
  // Inspection outputs are float32 whatever the model computes in.
  const float32Output = (value: string, name: string, dims: (number | string)[]) => {
    g.output(name, DataType.FLOAT, dims);
    return FLOAT === DataType.FLOAT ? g.op1("Identity", [value], {}, name) : g.op1("Cast", [value], { to: DataType.FLOAT }, name);
  };

  const inputIds = g.input("input_ids", INT64, ["batch_size", "sequence_length"]);
  const attentionMask = g.input("attention_mask", INT64, ["batch_size", "total_length"]);
  const positionIds = g.input("position_ids", INT64, ["batch_size", "sequence_length"]);
  const keep = logitsToKeep ? g.input("logits_to_keep", INT64, []) : onePass ? g.int64([1], []) : null;
  g.output("logits", DataType.FLOAT, ["batch_size", logitsToKeep ? "kept_length" : onePass ? 1 : "sequence_length", vocab]);
  const shapeBS = g.op1("Shape", [inputIds]); // [batch, seq]
  const tokens = w.tokenEmbedding(inputIds);

  // Embeddings: token rows plus position rows, then flattened to one row per token: [batch·seq, d].
  const positions = g.op1("Gather", [weight("wpe.weight", [config.n_positions, d]), positionIds], { axis: 0 });
  let x = g.op1("Reshape", [g.op1("Add", [tokens, positions]), g.int64([-1, d])]);

  const rowsBSD = g.op1("Concat", [shapeBS, g.int64([d])], { axis: 0 }); // [batch, seq, d]
  const rowsOfD = g.int64([-1, d]);
  const hooks = intervene ? interventionHooks(g, config, w, rowsBSD) : null;
  const attend = cacheWindow ? windowedAttention() : attention === "fused" ? fusedAttention() : standardAttention();

  // What every layer's scores share: the mask, where query i (at absolute index past + i) sees key j
  // when j <= past + i and key j is not padding ([batch, 1, seq, total], broadcast over heads); the
  // score a masked key gets; and the 1/√headDim scale.
  function scoring(): { visible: string; maskedScore: string; scale: string } {
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
    return {
      visible: g.op1("And", [causal, notPadding]),
      maskedScore: constant(dtype === "fp16" ? MASKED_SCORE.fp16 : MASKED_SCORE.fp32),
      scale: constant(1 / Math.sqrt(headDim)),
    };
  }

  // Attention over q|k|v rows [tokens, 3d] with layer i's cache, as standard ONNX operators.
  function standardAttention() {
    const { visible, maskedScore, scale } = scoring();
    const splitHeads = g.op1("Concat", [shapeBS, g.int64([heads, headDim])], { axis: 0 }); // [batch, seq, heads, headDim]
    return (qkv: string, i: number, projection?: string): string => {
      // Split into heads [batch, heads, seq, headDim]; append this step's keys and values to the cache
      // (the inspection and intervention passes have none: every key is this run's).
      const [q, k, v] = g
        .op("Split", [qkv, g.int64([d, d, d])], { axis: 1 }, 3)
        .map((t) => g.op1("Transpose", [g.op1("Reshape", [t, splitHeads])], { perm: [0, 2, 1, 3] }));
      let key = k;
      let value = v;
      if (!onePass) {
        const [pastKey, pastValue] = layerCache(i);
        key = g.op1("Concat", [pastKey, k], { axis: 2 }, `present.${i}.key`);
        value = g.op1("Concat", [pastValue, v], { axis: 2 }, `present.${i}.value`);
      }
      // Scaled dot-product attention with the shared mask.
      const scores = g.op1("Mul", [g.op1("MatMul", [q, g.op1("Transpose", [key], { perm: [0, 1, 3, 2] })]), scale]);
      let weights = g.op1("Softmax", [g.op1("Where", [visible, scores, maskedScore])], { axis: -1 });
      if (inspect) float32Output(weights, `attentions.${i}`, ["batch_size", heads, "sequence_length", "sequence_length"]);
      if (hooks) weights = hooks.weights(weights, i);
      let z = g.op1("MatMul", [weights, value]);
      if (hooks) z = hooks.heads(z, i, projection!);
      return g.op1("Reshape", [g.op1("Transpose", [z], { perm: [0, 2, 1, 3] }), rowsOfD]);
    };
  }

  // The same attention as one MultiHeadAttention per layer: q, k and v as [batch, seq, d], the padding
  // mask as int32 (1 = token, 0 = padding). The operator adds the causal mask itself (unidirectional)
  // and -10000 (mask_filter_value) to masked scores, whose softmax weight then underflows to 0.
  function fusedAttention() {
    const keyPadding = g.op1("Cast", [attentionMask], { to: DataType.INT32 });
    return (qkv: string, i: number): string => {
      const [q, k, v] = g.op("Split", [qkv, g.int64([d, d, d])], { axis: 1 }, 3).map((t) => g.op1("Reshape", [t, rowsBSD]));
      const [pastKey, pastValue] = layerCache(i);
      const [attended] = g.op("com.microsoft:MultiHeadAttention", [q, k, v, "", keyPadding, "", pastKey, pastValue], { num_heads: heads, unidirectional: 1 }, [
        `attention.${i}`,
        `present.${i}.key`,
        `present.${i}.value`,
      ]);
      return g.op1("Reshape", [attended, rowsOfD]);
    };
  }

  // Attention over the cache in two parts: the settled keys and values, read where they lie, and
  // the recent ones with this run's appended (the only part that is copied). Each part gives its
  // scores and its weighted sum of values from one matrix product; one softmax spans both, so the
  // result is exactly attention over the whole cache. [batch, heads, positions, headDim] throughout.
  function windowedAttention() {
    const { visible, maskedScore, scale } = scoring();
    const splitHeads = g.op1("Concat", [shapeBS, g.int64([3 * heads, headDim])], { axis: 0 }); // [batch, seq, 3·heads, headDim]
    // The softmax weights split back into the two parts: [past, recent + seq].
    const pastLength = g.op1("Slice", [g.op1("Shape", [`past_key_values.0.key`]), g.int64([2]), g.int64([3])]);
    const totalLength = g.op1("Slice", [g.op1("Shape", [attentionMask]), g.int64([1]), g.int64([2])]);
    const parts = g.op1("Concat", [pastLength, g.op1("Sub", [totalLength, pastLength])], { axis: 0 });
    return (qkv: string, i: number): string => {
      const [q, k, v] = g.op("Split", [g.op1("Transpose", [g.op1("Reshape", [qkv, splitHeads])], { perm: [0, 2, 1, 3] }), g.int64([heads, heads, heads])], { axis: 1 }, 3);
      const [settledKey, settledValue] = ["key", "value"].map((kv) => g.input(`past_key_values.${i}.${kv}`, FLOAT, ["batch_size", heads, "past_sequence_length", headDim]));
      const [recentKey, recentValue] = [k, v].map((t, j) => {
        const kv = j === 0 ? "key" : "value";
        const recent = g.input(`recent.${i}.${kv}`, FLOAT, ["batch_size", heads, "recent_length", headDim]);
        g.output(`recent_out.${i}.${kv}`, FLOAT, ["batch_size", heads, "recent_total_length", headDim]);
        return g.op1("Concat", [recent, t], { axis: 2 }, `recent_out.${i}.${kv}`);
      });
      // Scores as keys · qᵀ, [batch, heads, keys, seq]: onnxruntime multiplies a key matrix by a
      // vector faster than a vector by a transposed key matrix; only the small result is transposed.
      const queries = g.op1("Transpose", [g.op1("Mul", [q, scale])], { perm: [0, 1, 3, 2] });
      const keyScores = g.op1("Concat", [g.op1("MatMul", [settledKey, queries]), g.op1("MatMul", [recentKey, queries])], { axis: 2 });
      const scores = g.op1("Transpose", [keyScores], { perm: [0, 1, 3, 2] });
      const weights = g.op1("Softmax", [g.op1("Where", [visible, scores, maskedScore])], { axis: -1 });
      const [settledWeights, recentWeights] = g.op("Split", [weights, parts], { axis: -1 }, 2);
      const attended = g.op1("Add", [g.op1("MatMul", [settledWeights, settledValue]), g.op1("MatMul", [recentWeights, recentValue])]);
      return g.op1("Reshape", [g.op1("Transpose", [attended], { perm: [0, 2, 1, 3] }), rowsOfD]);
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

  // What the inspection pass returns about the residual stream: the stream itself after the
  // embeddings and each block, and the size of each sub-block's write, one number per position.
  const writes: Record<"attention" | "mlp", string[]> = { attention: [], mlp: [] };
  const observe = (state: string, i: number) => {
    if (inspect) float32Output(g.op1("Reshape", [state, rowsBSD]), `hidden_states.${i}`, ["batch_size", "sequence_length", d]);
  };
  const written = (added: string, kind: "attention" | "mlp") => {
    if (inspect) writes[kind].push(g.op1("Unsqueeze", [g.op1("Reshape", [g.op1("ReduceL2", [added], { axes: [-1], keepdims: 0 }), shapeBS]), g.int64([0])]));
    return added;
  };
  observe(x, 0);

  const attentionBiases: string[] = [];
  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}`;
    if (hooks) x = hooks.residual(x, i);
    const qkv = linear(layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`, d, 3 * d);
    let projected: string;
    if (hooks) {
      // The projection is declared once and shared with the per-head writes.
      const projection = weight(`${h}.attn.c_proj.weight`, [d, d]);
      const bias = weight(`${h}.attn.c_proj.bias`, [d]);
      attentionBiases.push(bias);
      projected = g.op1("Gemm", [attend(qkv, i, projection), projection, bias]);
    } else {
      projected = linear(attend(qkv, i), `${h}.attn.c_proj`, d, d);
    }
    x = g.op1("Add", [x, written(projected, "attention")]);
    // MLP with gelu_new: 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), in the form onnxruntime fuses.
    const inner = innerSize(config);
    const u = linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`, d, inner);
    const cube = g.op1("Pow", [u, constant(3)]);
    const tanh = g.op1("Tanh", [g.op1("Mul", [g.op1("Add", [u, g.op1("Mul", [cube, constant(GELU.cubic)])]), constant(GELU.scale)])]);
    const gelu = g.op1("Mul", [g.op1("Mul", [u, constant(0.5)]), g.op1("Add", [tanh, constant(1)])]);
    const mlpOut = linear(gelu, `${h}.mlp.c_proj`, inner, d);
    x = g.op1("Add", [x, written(hooks ? hooks.mlp(mlpOut, i) : mlpOut, "mlp")]);
    observe(x, i + 1);
  }
  if (inspect) {
    for (const [kind, parts] of Object.entries(writes)) {
      float32Output(parts.length > 1 ? g.op1("Concat", parts, { axis: 0 }) : parts[0], `${kind}_writes`, [config.n_layer, "batch_size", "sequence_length"]);
    }
  }

  if (hooks) {
    x = hooks.residual(x, config.n_layer);
    hooks.finish(attentionBiases);
  }

  // Output head: logits = ln_f(x) · wteᵀ, back in [batch, seq, vocab]; with `logits_to_keep`, only
  // the last positions of each row go through the head (Slice from -keep; -0 = 0 keeps them all).
  let final = g.op1("Reshape", [layerNorm(x, "ln_f"), rowsBSD]);
  if (keep) {
    const start = g.op1("Neg", [g.op1("Reshape", [keep, g.int64([1])])]);
    final = g.op1("Slice", [final, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  }
  if (dtype === "fp16") g.op1("Cast", [w.head(final)], { to: DataType.FLOAT }, "logits");
  else w.head(final, "logits");
  return g;
}
