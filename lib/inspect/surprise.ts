// How surprising a text is to the model: every token's loss (−log p of that token given the text
// before it, in nats) and the text's perplexity, exp(mean loss), the number of equally likely
// choices the model was, on average, torn between. The text is read after <|endoftext|>, as GPT-2
// reads the start of a document, so that its first token is scored too. One forward pass.
import { expectString } from "../checks";
import { END_OF_TEXT_ID } from "../config";
import type { Model } from "../model/model";
import { logSoftmax } from "../sampling/distribution";

/** A text as the model scored it. */
export interface Surprise {
  /** Each token: its text, its probability given the text before it, and its loss −ln p (nats). */
  tokens: { text: string; prob: number; loss: number }[];
  /** The mean loss per token, in nats. */
  meanLoss: number;
  /** exp(meanLoss). */
  perplexity: number;
}

/** Scores every token of `text` (see the file comment). Hand `result.tokens` to `tokenProbabilityHtml` to colour the text. */
export async function surprise(model: Model, text: string): Promise<Surprise> {
  expectString(text, "text", true);
  const ids = model.tokenizer.encode(text).ids;
  const input = [END_OF_TEXT_ID, ...ids];
  if (input.length > model.config.n_positions) {
    throw new RangeError(`The text is ${ids.length} tokens, and with <|endoftext|> before it ${input.length}, but this model's context is ${model.config.n_positions}; score a shorter text`);
  }
  const logits = await model.forward([input]);
  const vocab = model.config.vocab_size;
  const tokens = ids.map((id, t) => {
    const loss = -logSoftmax(logits.subarray(t * vocab, (t + 1) * vocab))[id];
    return { text: model.tokenizer.tokenText(id), prob: Math.exp(-loss), loss };
  });
  const meanLoss = tokens.reduce((sum, t) => sum + t.loss, 0) / tokens.length;
  return { tokens, meanLoss, perplexity: Math.exp(meanLoss) };
}
