// Ablation: the prompt run again with chosen heads switched off or replaced by their mean, and
// chosen MLPs removed, to see what the prediction was without them. Zero-ablating a head multiplies
// its attention weights by 0, as Hugging Face's `head_mask`; mean-ablating replaces its output at
// every position by its average over the prompt's positions (the head still writes, but nothing
// that depends on where it looked).
import { expectOneOf, expectOptions, invalid } from "../checks";
import { onePromptIds } from "../inspect/inspect";
import { interruptible } from "../interrupt";
import type { Model } from "../model/model";
import { argmax, softmax } from "../sampling/distribution";
import { type Experiment, type Reference, runFull, runWithAttention } from "./intervene";

/** Options of {@link ablate}. */
export interface AblateOptions {
  /** Heads to ablate, as `{ layer, head }` (from 0) or `"layer.head"` strings. */
  heads?: readonly ({ layer: number; head: number } | string)[];
  /** MLPs (their layers) whose output is removed. */
  mlps?: readonly number[];
  /** How heads are ablated: `zero` (HF's head_mask) or `mean` (their mean output over the prompt). @default "zero" */
  mode?: "zero" | "mean";
}

/** A next-token prediction: the logits after the last position and the likeliest token. */
export interface Prediction {
  logits: Float32Array;
  next: { id: number; text: string; prob: number };
}

/** The prediction with and without the ablated parts. */
export interface Ablation extends Prediction {
  before: Prediction;
  /** `attentions[layer][head][query][key]` of the ablated run, as `model.inspect` gives them (an ablated head's are 0 in zero mode). */
  attentions: Float32Array[][][];
}

/** Runs `prompt` with the chosen heads and MLPs ablated; returns the new prediction beside the original one. */
export async function ablate(model: Model, prompt: string | readonly number[], options: AblateOptions = {}): Promise<Ablation> {
  expectOptions(options, "options", ["heads", "mlps", "mode"]);
  const { mode = "zero" } = options;
  expectOneOf(mode, "mode", ["zero", "mean"]);
  const heads = (options.heads ?? []).map((h, i) => parseHead(model, h, `heads[${i}]`));
  const mlps = (options.mlps ?? []).map((layer, i) => checkLayer(model, layer, `mlps[${i}]`));
  const ids = onePromptIds(model, prompt);
  return interruptible("ablation", async (signal) => {
    const full = await runFull(model, ids, [0]);
    const experiment: Experiment = { mlpScale: mlps.map((layer) => ({ layer, scale: 0 })) };
    let reference: Reference | null = null;
    if (mode === "zero") experiment.headScale = heads.map((h) => ({ ...h, scale: 0 }));
    else {
      reference = meanHeads(model, full.reference, ids.length);
      experiment.headPatch = heads;
    }
    signal.throwIfAborted();
    const { logits, attentions } = await runWithAttention(model, ids, experiment, reference);
    return { ...prediction(model, logits), before: prediction(model, full.logits), attentions };
  });
}

/** The likeliest next token of a row of logits. */
export function prediction(model: Model, logits: Float32Array): Prediction {
  const id = argmax(logits);
  return { logits, next: { id, text: model.tokenizer.tokenText(id), prob: softmax(logits)[id] } };
}

/** The reference with every head's output replaced by its mean over the positions. */
function meanHeads(model: Model, reference: Reference, seq: number): Reference {
  const { n_head: heads, n_embd: d } = model.config;
  const headDim = d / heads;
  const averaged = reference.heads.map((layer) => {
    const out = new Float32Array(layer.length);
    for (let h = 0; h < heads; h++) {
      for (let k = 0; k < headDim; k++) {
        let sum = 0;
        for (let t = 0; t < seq; t++) sum += layer[(h * seq + t) * headDim + k];
        for (let t = 0; t < seq; t++) out[(h * seq + t) * headDim + k] = sum / seq;
      }
    }
    return out;
  });
  return { heads: averaged, residual: reference.residual };
}

/** A head as `{ layer, head }` or `"layer.head"`, checked against the model. */
export function parseHead(model: Model, value: { layer: number; head: number } | string, name: string): { layer: number; head: number } {
  let head = value as { layer: number; head: number };
  if (typeof value === "string") {
    const match = /^(\d+)\.(\d+)$/.exec(value.trim());
    if (!match) throw invalid(TypeError, name, "`layer.head`, e.g. `0.3`", value);
    head = { layer: Number(match[1]), head: Number(match[2]) };
  }
  if (typeof head !== "object" || head === null) throw invalid(TypeError, name, "{ layer, head } or `layer.head`", value);
  checkLayer(model, head.layer, `${name}.layer`);
  const { n_head } = model.config;
  if (!Number.isInteger(head.head) || head.head < 0 || head.head >= n_head) {
    throw invalid(RangeError, `${name}.head`, `an integer in [0, ${n_head - 1}] (this model has ${n_head} heads per layer)`, head.head);
  }
  return { layer: head.layer, head: head.head };
}

function checkLayer(model: Model, layer: number, name: string): number {
  const { n_layer } = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= n_layer) {
    throw invalid(RangeError, name, `an integer in [0, ${n_layer - 1}] (this model has ${n_layer} layers)`, layer);
  }
  return layer;
}
