// Running the intervention pass (intervene.onnx, lib/onnx/intervention-graph.ts) on one prompt:
// a batch of experiments, each a row, that scale heads and MLPs or replace heads' outputs and the
// residual stream with a reference run's. Rows are run in chunks so memory stays bounded; the
// reference values (the same for every row) go in once per chunk. What comes back per row: the
// last position's logits and, where asked, what each head and MLP wrote there and the stream.
import * as ort from "onnxruntime-node";
import { invalid } from "../checks";
import type { Model } from "../model/model";
import { int64Tensor } from "../model/session";

/** One experiment: what to change in one run of the prompt. Layers and heads count from 0. */
export interface Experiment {
  /** The prompt's token ids for this row; default the shared ones. */
  ids?: number[];
  /** Heads whose attention weights are multiplied by a factor (0 switches the head off, as HF's head_mask). */
  headScale?: { layer: number; head: number; scale: number }[];
  /** Heads whose outputs (weights · values, every position) are replaced by the reference's. */
  headPatch?: { layer: number; head: number }[];
  /** MLPs whose output is multiplied by a factor (0 removes it). */
  mlpScale?: { layer: number; scale: number }[];
  /** (state, position) pairs of the residual stream replaced by the reference's; state l enters block l, state n_layer enters ln_f. */
  residualPatch?: { layer: number; position: number }[];
}

/** What a reference run provides for patching: every head's output and the residual stream. */
export interface Reference {
  /** [layer][head · seq · headDim] */
  heads: Float32Array[];
  /** [state][seq · d], states 0..n_layer */
  residual: Float32Array[];
}

/** What one row gave back. */
export interface RowOutputs {
  /** The next-token logits after the last position. */
  logits: Float32Array;
}

/** Everything the pass outputs for row 0 of a run without interventions (attribution's needs). */
export interface FullOutputs extends RowOutputs {
  reference: Reference;
  /** [layer][head · d]: what each head wrote at the last position. */
  headWrites: Float32Array[];
  /** [layer][d]: what each MLP wrote at the last position. */
  mlpWrites: Float32Array[];
  /** [layer · d] */
  attentionBiases: Float32Array;
  lnF: { weight: Float32Array; bias: Float32Array };
  /** [targets · d]: the embedding rows of `targets` (the output head is tied to them). */
  targetRows: Float32Array;
}

/** Rows per session run: at the gpt2 shape and 64 positions, about 100 MB of outputs. */
const CHUNK = 16;

/** Runs the prompt once, unchanged, and returns every output (for attribution and as a patching reference). */
export async function runFull(model: Model, ids: number[], targets: number[]): Promise<FullOutputs> {
  const out = await model.runIntervention(feeds(model, ids, [{}], null, targets));
  const { n_layer: layers } = model.config;
  const read = (name: string) => out[name].data as Float32Array;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  return {
    logits: read("logits").slice(),
    reference: { heads: range(layers).map((l) => read(`head_outputs.${l}`).slice()), residual: range(layers + 1).map((l) => read(`hidden_states.${l}`).slice()) },
    headWrites: range(layers).map((l) => read(`head_writes.${l}`).slice()),
    mlpWrites: range(layers).map((l) => read(`mlp_writes.${l}`).slice()),
    attentionBiases: read("attention_biases").slice(),
    lnF: { weight: read("ln_f_weight").slice(), bias: read("ln_f_bias").slice() },
    targetRows: read("target_rows").slice(),
  };
}

/** Runs each experiment on the prompt `ids` (rows of equal length), in chunks; the logits of each. */
export async function runExperiments(model: Model, ids: number[], experiments: Experiment[], reference: Reference | null, signal?: AbortSignal): Promise<Float32Array[]> {
  const vocab = model.config.vocab_size;
  const logits: Float32Array[] = [];
  for (let start = 0; start < experiments.length; start += CHUNK) {
    signal?.throwIfAborted();
    const chunk = experiments.slice(start, start + CHUNK);
    const out = await model.runIntervention(feeds(model, ids, chunk, reference, [0]), ["logits"]);
    const data = out.logits.data as Float32Array;
    chunk.forEach((_, r) => logits.push(data.slice(r * vocab, (r + 1) * vocab)));
  }
  return logits;
}

/** One experiment's logits and every head's attention weights, `[layer][head][query]` rows as `model.inspect` gives them. */
export async function runWithAttention(model: Model, ids: number[], experiment: Experiment, reference: Reference | null): Promise<{ logits: Float32Array; attentions: Float32Array[][][] }> {
  const { n_layer: layers, n_head: heads } = model.config;
  const seq = ids.length;
  const names = Array.from({ length: layers }, (_, l) => `attentions.${l}`);
  const out = await model.runIntervention(feeds(model, ids, [experiment], reference, [0]), ["logits", ...names]);
  const attentions = names.map((name) => {
    const data = out[name].data as Float32Array;
    return Array.from({ length: heads }, (_, h) => Array.from({ length: seq }, (_, q) => data.slice((h * seq + q) * seq, (h * seq + q + 1) * seq)));
  });
  return { logits: (out.logits.data as Float32Array).slice(), attentions };
}

/** The session's inputs for a batch of experiments. */
function feeds(model: Model, ids: number[], rows: Experiment[], reference: Reference | null, targets: number[]): Record<string, ort.Tensor> {
  const { n_layer: layers, n_head: heads, n_embd: d, vocab_size: vocab, n_positions } = model.config;
  const seq = ids.length;
  const batch = rows.length;
  const headDim = d / heads;
  const headScale = new Float32Array(batch * layers * heads).fill(1);
  const headPatchMask = new Float32Array(batch * layers * heads);
  const mlpScale = new Float32Array(batch * layers).fill(1);
  const residualMask = new Float32Array(batch * (layers + 1) * seq);
  rows.forEach((row, r) => {
    for (const { layer, head, scale } of row.headScale ?? []) headScale[(r * layers + layer) * heads + head] = scale;
    for (const { layer, head } of row.headPatch ?? []) headPatchMask[(r * layers + layer) * heads + head] = 1;
    for (const { layer, scale } of row.mlpScale ?? []) mlpScale[r * layers + layer] = scale;
    for (const { layer, position } of row.residualPatch ?? []) residualMask[(r * (layers + 1) + layer) * seq + position] = 1;
    if ((row.headPatch?.length || row.residualPatch?.length) && !reference) throw new Error("Patching needs a reference run");
  });
  const inputIds = rows.map((row) => row.ids ?? ids);
  if (inputIds.some((row) => row.length !== seq)) throw invalid(RangeError, "ids", `rows of ${seq} tokens each`, inputIds.map((row) => row.length));
  const concat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor("float32", data, dims);
  return {
    input_ids: int64Tensor(inputIds, seq, "input_ids", vocab),
    attention_mask: int64Tensor(inputIds.map((row) => row.map(() => 1)), seq, "attention_mask", 2),
    position_ids: int64Tensor(inputIds.map((row) => row.map((_, t) => t)), seq, "position_ids", n_positions),
    head_scale: tensor(headScale, [batch, layers, heads]),
    head_patch_mask: tensor(headPatchMask, [batch, layers, heads]),
    head_patch: reference ? tensor(concat(reference.heads), [1, layers, heads, seq, headDim]) : tensor(new Float32Array(layers * heads * seq * headDim), [1, layers, heads, seq, headDim]),
    mlp_scale: tensor(mlpScale, [batch, layers]),
    residual_patch_mask: tensor(residualMask, [batch, layers + 1, seq]),
    residual_patch: reference ? tensor(concat(reference.residual), [1, layers + 1, seq, d]) : tensor(new Float32Array((layers + 1) * seq * d), [1, layers + 1, seq, d]),
    target_ids: int64Tensor([targets], targets.length, "target_ids", vocab),
  };
}
