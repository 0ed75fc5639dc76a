// Occlusion (as inseq's perturbation methods): replace one prompt token at a time, by
// <|endoftext|> or a chosen token, and see how the probability of the target next token changes.
// A large drop marks a token the prediction depends on. One batched pass covers every position.
import { expectOptions } from "../checks";
import { END_OF_TEXT_ID } from "../config";
import { onePromptIds, targetId } from "../inspect/inspect";
import { interruptible } from "../interrupt";
import type { Model } from "../model/model";
import { argmax, softmax } from "../sampling/distribution";
import { runExperiments } from "./intervene";

/** Options of {@link occlude}. */
export interface OccludeOptions {
  /** The token whose probability is followed. @default the model's own next token */
  target?: number | string;
  /** What each prompt token is replaced by. @default `<|endoftext|>` */
  replacement?: number | string;
}

/** The target's probability with each prompt token replaced. */
export interface Occlusion {
  target: { id: number; text: string };
  /** The target's probability with the prompt as it is. */
  prob: number;
  /** Per prompt token: its text, the target's probability without it, and the change (negative: the token helped). */
  tokens: { text: string; prob: number; change: number }[];
}

/** Replaces each token of `prompt` in turn and measures the target's probability. */
export async function occlude(model: Model, prompt: string | readonly number[], options: OccludeOptions = {}): Promise<Occlusion> {
  expectOptions(options, "options", ["target", "replacement"]);
  const ids = onePromptIds(model, prompt);
  const replacement = options.replacement === undefined ? END_OF_TEXT_ID : targetId(model, options.replacement, "replacement");
  const chosen = options.target === undefined ? undefined : targetId(model, options.target);
  return interruptible("occlusion", async (signal) => {
    const rows = [ids, ...ids.map((_, p) => ids.map((id, t) => (t === p ? replacement : id)))];
    const logits = await runExperiments(model, ids, rows.map((row) => ({ ids: row })), null, signal);
    const target = chosen ?? argmax(logits[0]);
    const probs = logits.map((row) => softmax(row)[target]);
    return {
      target: { id: target, text: model.tokenizer.tokenText(target) },
      prob: probs[0],
      tokens: ids.map((id, p) => ({ text: model.tokenizer.tokenText(id), prob: probs[p + 1], change: probs[p + 1] - probs[0] })),
    };
  });
}
