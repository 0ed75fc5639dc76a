// One look inside a GPT-2 on one prompt, as TransformerLens's `run_with_cache` and bertviz give it in
// Python: the attention weights of every head, the residual stream after the embeddings and after each
// block, how much each sub-block writes into it, and the logit lens (each of those states read
// through ln_f and the output head as if the model ended there). It runs inspect.onnx, the same
// weights as the decoder in a graph with those outputs, then lens.onnx on each layer's states.
import * as ort from "onnxruntime-node";
import { expectBoolean, expectInteger, expectOptions, invalid } from "../checks";
import { promptIds } from "../generate/prompt";
import { checkAborted } from "../interrupt";
import type { Model } from "../model/model";
import { int64Tensor } from "../model/session";
import { argmax, softmax } from "../sampling/distribution";
import { expectTokenId } from "../tokenizer/tokenizer";

/** What `model.inspect` computes besides the attention weights and the block writes. */
export interface InspectOptions {
  /** Tokens listed per layer and position by the logit lens. An integer in [1, vocab]. @default 5 */
  top?: number;
  /** Compute the logit lens. @default true */
  lens?: boolean;
  /**
   * The token whose probability and rank the lens follows at every position, as an id or as the text
   * of exactly one token. @default the token that comes next in the prompt, and after the last one
   * the model's own (greedy) choice
   */
  target?: number | string;
  /** Return the residual stream itself: (n_layer + 1) × tokens × n_embd floats. @default false */
  residual?: boolean;
}

/** A token with its probability; `rank` counts the tokens with a higher logit (0 = the likeliest). */
export interface LensToken {
  id: number;
  text: string;
  prob: number;
}

/** The logit lens at one layer and position. */
export interface LensEntry extends LensToken {
  /** The `top` likeliest tokens, likeliest first (the entry's own id, text and prob are the first). */
  top: LensToken[];
  /** The followed token (see `InspectOptions.target`) with its probability and rank here. */
  target: LensToken & { rank: number };
}

export interface Inspection {
  ids: number[];
  /** The text of each token. */
  tokens: string[];
  /**
   * `attentions[layer][head][query][key]`: the softmax weights the model used; keys after the query
   * are exactly 0. Each query row is a Float32Array over all positions.
   */
  attentions: Float32Array[][][];
  /** `lens[layer][position]` for layer 0 (the embeddings) to n_layer (the model's output); empty when `lens: false`. */
  lens: LensEntry[][];
  /** `writes.attention[layer][position]` and `writes.mlp[…]`: the L2 norm of what each sub-block adds to the stream. */
  writes: { attention: number[][]; mlp: number[][] };
  /** `residual[layer][position]`: the stream after the embeddings (0) and after each block, before ln_f; only with `residual: true`. */
  residual?: Float32Array[][];
  /** The model's next-token logits after the last position. */
  logits: Float32Array;
  /** Its greedy choice after the last position. */
  next: LensToken;
}

/** The two inspection graphs, opened on the model's device the first time they are needed. */
export interface InspectionSessions {
  inspect: ort.InferenceSession;
  lens: ort.InferenceSession;
}

const OPTIONS = ["top", "lens", "target", "residual"] as const;
/** Rows the lens reads per run, so that its [rows, vocab] logits stay near 50 MB. */
const LENS_ROWS = 256;

/** Runs the inspection pass; `Model.inspect` is the way in. The sessions are awaited once the input is checked. */
export async function runInspection(
  model: Model,
  openSessions: () => Promise<InspectionSessions>,
  prompt: string | readonly number[],
  options: InspectOptions = {},
  signal?: AbortSignal,
): Promise<Inspection> {
  expectOptions(options, "options", OPTIONS);
  const { top = 5, lens = true, residual = false } = options;
  const { n_layer, n_head, n_embd, n_positions, vocab_size } = model.config;
  expectInteger(top, "top", 1, vocab_size);
  expectBoolean(lens, "lens");
  expectBoolean(residual, "residual");
  const ids = onePromptIds(model, prompt);
  const target = options.target === undefined ? undefined : targetId(model, options.target);
  const T = ids.length;

  const positions = ids.map((_, t) => t);
  const feeds = {
    input_ids: int64Tensor([ids], T, "input_ids", vocab_size),
    attention_mask: int64Tensor([ids.map(() => 1)], T, "attention_mask", 2),
    position_ids: int64Tensor([positions], T, "position_ids", n_positions),
  };
  const layers = Array.from({ length: n_layer }, (_, l) => l);
  const states = Array.from({ length: n_layer + 1 }, (_, l) => `hidden_states.${l}`);
  const fetches = ["logits", "attention_writes", "mlp_writes", ...layers.map((l) => `attentions.${l}`), ...(lens || residual ? states : [])];
  const sessions = await openSessions();
  checkAborted(signal);
  const out = await sessions.inspect.run(feeds, fetches);

  const logits = out.logits.data as Float32Array;
  const rowsOf = (data: Float32Array, count: number, width: number) => Array.from({ length: count }, (_, r) => data.subarray(r * width, (r + 1) * width));
  const attentions = layers.map((l) => {
    const data = out[`attentions.${l}`].data as Float32Array;
    return Array.from({ length: n_head }, (_, h) => rowsOf(data.subarray(h * T * T, (h + 1) * T * T), T, T));
  });
  const perLayer = (name: string) => rowsOf(out[name].data as Float32Array, n_layer, T).map((row) => Array.from(row));
  const text = (id: number) => model.tokenizer.tokenText(id);
  const nextId = argmax(logits);
  const inspection: Inspection = {
    ids,
    tokens: ids.map(text),
    attentions,
    lens: [],
    writes: { attention: perLayer("attention_writes"), mlp: perLayer("mlp_writes") },
    logits,
    next: { id: nextId, text: text(nextId), prob: softmax(logits)[nextId] },
  };
  if (residual) inspection.residual = states.map((name) => rowsOf(out[name].data as Float32Array, T, n_embd));
  if (lens) {
    // Every layer's states as one list of rows, read LENS_ROWS at a time: fewer, larger products.
    const targets = ids.map((_, t) => target ?? (t + 1 < T ? ids[t + 1] : nextId));
    const rows = new Float32Array(states.length * T * n_embd);
    states.forEach((name, l) => rows.set(out[name].data as Float32Array, l * T * n_embd));
    const entries = await lensOf(sessions.lens, rows, states.flatMap(() => targets), top, n_embd, text, signal);
    inspection.lens = states.map((_, l) => entries.slice(l * T, (l + 1) * T));
  }
  return inspection;
}

/** The lens entries of states [rows, d] (row r follows `targets[r]`), LENS_ROWS rows per run. */
async function lensOf(
  session: ort.InferenceSession,
  states: Float32Array,
  targets: number[],
  top: number,
  d: number,
  text: (id: number) => string,
  signal?: AbortSignal,
): Promise<LensEntry[]> {
  const entries: LensEntry[] = [];
  for (let start = 0; start < targets.length; start += LENS_ROWS) {
    checkAborted(signal);
    const rows = targets.slice(start, start + LENS_ROWS);
    const out = await session.run({
      hidden_states: new ort.Tensor("float32", states.subarray(start * d, (start + rows.length) * d), [rows.length, d]),
      targets: new ort.Tensor("int64", BigInt64Array.from(rows, BigInt), [rows.length]),
      top: new ort.Tensor("int64", BigInt64Array.of(BigInt(top)), [1]),
    });
    const topIds = out.top_ids.data as BigInt64Array;
    const topProbs = out.top_probs.data as Float32Array;
    const targetProbs = out.target_probs.data as Float32Array;
    const targetRanks = out.target_ranks.data as BigInt64Array;
    rows.forEach((id, r) => {
      const list = Array.from({ length: top }, (_, k) => {
        const tokenId = Number(topIds[r * top + k]);
        return { id: tokenId, text: text(tokenId), prob: topProbs[r * top + k] };
      });
      entries.push({ ...list[0], top: list, target: { id, text: text(id), prob: targetProbs[r], rank: Number(targetRanks[r]) } });
    });
  }
  return entries;
}

/** One prompt (a text or token ids) as token ids, checked against the model's context. */
export function onePromptIds(model: Model, prompt: string | readonly number[]): number[] {
  if (typeof prompt !== "string" && !Array.isArray(prompt)) throw invalid(TypeError, "prompt", "a string or an array of token ids", prompt);
  const [ids] = promptIds(typeof prompt === "string" ? prompt : [prompt as number[]], model.tokenizer);
  const { n_positions } = model.config;
  if (ids.length > n_positions) throw new RangeError(`The prompt is ${ids.length} tokens long but this model's context is ${n_positions}; use a shorter prompt`);
  return ids;
}

/** The `target` option (or another named `name`) as a token id: an id, or a text that is exactly one token. */
export function targetId(model: Model, target: number | string, name = "target"): number {
  if (typeof target === "number") {
    expectTokenId(target, name);
    return target;
  }
  if (typeof target !== "string") throw invalid(TypeError, name, "a token id or the text of one token", target);
  const { ids } = model.tokenizer.encode(target);
  if (ids.length !== 1) throw invalid(RangeError, name, `the text of exactly one token (it is ${ids.length} tokens: ${JSON.stringify(ids.map((id) => model.tokenizer.tokenText(id)))})`, target);
  return ids[0];
}
