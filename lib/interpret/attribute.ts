// Direct logit attribution (as TransformerLens's `logit_attrs`): the last position's residual
// stream is a sum of what the embeddings, every head, every attention output bias and every MLP
// wrote into it; ln_f centres it, divides by its spread σ and scales it by γ, and the output head
// takes its dot product with the target's embedding row. With σ taken from the real pass, the
// target's logit splits exactly into one part per writer, plus ln_f's bias: part = (p − mean p) ·
// (γ ⊙ w) / σ. Against a second token, the same with w_target − w_against.
import { expectOptions } from "../checks";
import { onePromptIds, targetId } from "../inspect/inspect";
import { interruptible } from "../interrupt";
import type { Model } from "../model/model";
import { argmax } from "../sampling/distribution";
import { runFull } from "./intervene";

/** Options of {@link attribute}. */
export interface AttributeOptions {
  /** The token whose logit is split: an id or the text of one token. @default the model's own next token */
  target?: number | string;
  /** Split the difference target − against instead (what patching experiments measure). */
  against?: number | string;
}

/** A logit split into what each part of the model wrote. */
export interface Attribution {
  /** The prompt's tokens. */
  tokens: string[];
  target: { id: number; text: string };
  against?: { id: number; text: string };
  /** The target's logit after the last position (minus `against`'s, when given), from the model's own pass. */
  logit: number;
  parts: {
    /** Token and position embeddings. */
    embeddings: number;
    /** `heads[layer][head]` */
    heads: number[][];
    /** `attentionBias[layer]`: c_proj's bias, written at every position whichever heads attend. */
    attentionBias: number[];
    /** `mlps[layer]` */
    mlps: number[];
    /** ln_f's bias. */
    finalBias: number;
  };
  /** The sum of the parts: `logit` up to float32 rounding. */
  sum: number;
}

/**
 * Splits the target's next-token logit after `prompt` into the parts that wrote it (see the file
 * comment). Float32 conversions only (the default `dtype`).
 */
export async function attribute(model: Model, prompt: string | readonly number[], options: AttributeOptions = {}): Promise<Attribution> {
  expectOptions(options, "options", ["target", "against"]);
  const ids = onePromptIds(model, prompt);
  const target = options.target === undefined ? undefined : targetId(model, options.target);
  const against = options.against === undefined ? undefined : targetId(model, options.against, "against");
  return interruptible("attribution", async () => {
    const first = await runFull(model, ids, [target ?? 0, against ?? 0]);
    const chosen = target ?? argmax(first.logits);
    // The target rows come from the graph; when the default target was unknown, ask again for it.
    const full = target === undefined ? await runFull(model, ids, [chosen, against ?? 0]) : first;
    const { n_embd: d, n_layer: layers, n_head: heads, layer_norm_epsilon: eps } = model.config;
    const direction = new Float64Array(d);
    for (let i = 0; i < d; i++) direction[i] = full.lnF.weight[i] * (full.targetRows[i] - (against === undefined ? 0 : full.targetRows[d + i]));
    // σ of the stream entering ln_f at the last position.
    const last = full.reference.residual[layers].subarray((ids.length - 1) * d, ids.length * d);
    const mean = last.reduce((s, x) => s + x, 0) / d;
    const sigma = Math.sqrt(last.reduce((s, x) => s + (x - mean) ** 2, 0) / d + eps);
    const part = (p: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < d; i++) m += p[i];
      m /= d;
      let dot = 0;
      for (let i = 0; i < d; i++) dot += (p[i] - m) * direction[i];
      return dot / sigma;
    };
    const embeddings = part(full.reference.residual[0].subarray((ids.length - 1) * d, ids.length * d));
    const headParts = full.headWrites.map((writes) => Array.from({ length: heads }, (_, h) => part(writes.subarray(h * d, (h + 1) * d))));
    const attentionBias = Array.from({ length: layers }, (_, l) => part(full.attentionBiases.subarray(l * d, (l + 1) * d)));
    const mlps = full.mlpWrites.map(part);
    let finalBias = 0;
    for (let i = 0; i < d; i++) finalBias += full.lnF.bias[i] * (full.targetRows[i] - (against === undefined ? 0 : full.targetRows[d + i]));
    const sum = embeddings + headParts.flat().reduce((s, x) => s + x, 0) + attentionBias.reduce((s, x) => s + x, 0) + mlps.reduce((s, x) => s + x, 0) + finalBias;
    const token = (id: number) => ({ id, text: model.tokenizer.tokenText(id) });
    return {
      tokens: ids.map((id) => model.tokenizer.tokenText(id)),
      target: token(chosen),
      ...(against === undefined ? {} : { against: token(against) }),
      logit: full.logits[chosen] - (against === undefined ? 0 : full.logits[against]),
      parts: { embeddings, heads: headParts, attentionBias, mlps, finalBias },
      sum,
    };
  });
}
