// An independent GPT-2 forward pass in float64 plain TypeScript, for checking the ONNX graph.
// Written from the GPT-2 paper (Radford et al., 2019: pre-LayerNorm blocks, a final LayerNorm,
// tied input/output embedding) and OpenAI's gpt-2 model.py (gelu tanh form, c_attn/c_proj/c_fc
// with weights [in, out]); it shares no code with lib/onnx. Slow on purpose: loops, no tricks.
import type { Gpt2Config } from "../../lib/config";

/** Weights by Hugging Face name, as float32 arrays in their stored layout. */
export type Weights = (name: string) => Float32Array;

/**
 * Logits [T][vocab] for one sequence. `keep[t]` = false marks padding: no position attends to it.
 * `positions[t]` is the position id of token t.
 */
export function referenceLogits(
  config: Gpt2Config,
  w: Weights,
  tokens: number[],
  positions: number[],
  keep: boolean[],
): Float64Array[] {
  const { states } = referencePass(config, w, tokens, positions, keep);
  return states[config.n_layer].map((row) => lensLogits(config, w, row));
}

/** What happens inside one unpadded sequence, as transformers' output_attentions / output_hidden_states. */
export interface ReferenceInside {
  /** [layer][head][query][key], keys after the query 0. */
  attentions: Float64Array[][][];
  /** [n_layer + 1][position]: the residual stream after the embeddings and each block, before ln_f. */
  states: Float64Array[][];
  /** [layer][position]: the L2 norm of the attention sub-block's output and of the MLP's. */
  writes: { attention: number[][]; mlp: number[][] };
}

export function referencePass(config: Gpt2Config, w: Weights, tokens: number[], positions = tokens.map((_, t) => t), keep = tokens.map(() => true)): ReferenceInside {
  const D = config.n_embd;
  const H = config.n_head;
  const hd = D / H;
  const T = tokens.length;
  const wte = w("wte.weight");
  const wpe = w("wpe.weight");
  // Residual stream x[t] = wte[token] + wpe[position].
  let x: Float64Array<ArrayBufferLike>[] = tokens.map((tok, t) => {
    const row = new Float64Array(D);
    for (let i = 0; i < D; i++) row[i] = wte[tok * D + i] + wpe[positions[t] * D + i];
    return row;
  });
  const states = [x];
  const attentions: Float64Array[][][] = [];
  const writes: ReferenceInside["writes"] = { attention: [], mlp: [] };
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  for (let l = 0; l < config.n_layer; l++) {
    const p = `h.${l}`;
    // Attention sub-block on the normalised stream.
    const a = x.map((row) => layerNorm(row, w(`${p}.ln_1.weight`), w(`${p}.ln_1.bias`), config.layer_norm_epsilon));
    const qkv = a.map((row) => dense(row, w(`${p}.attn.c_attn.weight`), w(`${p}.attn.c_attn.bias`), D, 3 * D));
    const attended = x.map(() => new Float64Array(D));
    const layerWeights: Float64Array[][] = [];
    for (let h = 0; h < H; h++) {
      const headWeights: Float64Array[] = [];
      for (let t = 0; t < T; t++) {
        const row = new Float64Array(T);
        headWeights.push(row);
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          if (!keep[s]) continue;
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += qkv[t][h * hd + i] * qkv[s][D + h * hd + i];
          scores.push(dot / Math.sqrt(hd));
        }
        if (scores.length === 0) continue; // a padding query with nothing to see: its output is unused
        const max = Math.max(...scores);
        const exps = scores.map((v) => Math.exp(v - max));
        const sum = exps.reduce((u, v) => u + v, 0);
        let k = 0;
        for (let s = 0; s <= t; s++) {
          if (!keep[s]) continue;
          const weight = exps[k++] / sum;
          row[s] = weight;
          for (let i = 0; i < hd; i++) attended[t][h * hd + i] += weight * qkv[s][2 * D + h * hd + i];
        }
      }
      layerWeights.push(headWeights);
    }
    attentions.push(layerWeights);
    const attentionOut = attended.map((row) => dense(row, w(`${p}.attn.c_proj.weight`), w(`${p}.attn.c_proj.bias`), D, D));
    writes.attention.push(attentionOut.map(norm));
    x = x.map((row, t) => add(row, attentionOut[t]));
    // MLP sub-block.
    const inner = config.n_inner ?? 4 * D;
    const mlpOut = x.map((row) => {
      const m = layerNorm(row, w(`${p}.ln_2.weight`), w(`${p}.ln_2.bias`), config.layer_norm_epsilon);
      const hidden = dense(m, w(`${p}.mlp.c_fc.weight`), w(`${p}.mlp.c_fc.bias`), D, inner).map(gelu);
      return dense(hidden, w(`${p}.mlp.c_proj.weight`), w(`${p}.mlp.c_proj.bias`), inner, D);
    });
    writes.mlp.push(mlpOut.map(norm));
    x = x.map((row, t) => add(row, mlpOut[t]));
    states.push(x);
  }
  return { attentions, states, writes };
}

/** A residual-stream state read as the model's output: the final LayerNorm, then the token embedding transposed. */
export function lensLogits(config: Gpt2Config, w: Weights, row: Float64Array): Float64Array {
  const wte = w("wte.weight");
  const D = config.n_embd;
  const f = layerNorm(row, w("ln_f.weight"), w("ln_f.bias"), config.layer_norm_epsilon);
  const logits = new Float64Array(config.vocab_size);
  for (let v = 0; v < config.vocab_size; v++) {
    let dot = 0;
    for (let i = 0; i < D; i++) dot += f[i] * wte[v * D + i];
    logits[v] = dot;
  }
  return logits;
}

function layerNorm(x: Float64Array, gain: Float32Array, bias: Float32Array, eps: number): Float64Array {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * gain[i] + bias[i]);
}

/** y = x·W + b with W stored [inSize, outSize] (GPT-2's Conv1D). */
function dense(x: Float64Array, weight: Float32Array, bias: Float32Array, inSize: number, outSize: number): Float64Array {
  const y = Float64Array.from(bias);
  for (let i = 0; i < inSize; i++) {
    const xi = x[i];
    for (let o = 0; o < outSize; o++) y[o] += xi * weight[i * outSize + o];
  }
  return y;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

/** GELU, tanh approximation, as in GPT-2's model.py. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}
