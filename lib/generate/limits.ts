// How large a generation may be: the prompt and the new tokens must fit the model's context, and the
// key/value cache and the logits of a batch grow with the number of samples and positions; a
// generation past either limit is refused with the numbers and the fix before anything is allocated.
import { constants } from "node:buffer";
import { availableMemory, gigabytes } from "../model/memory";
import type { Model } from "../model/model";

/** The largest buffer Node can make, in bytes. */
const { MAX_LENGTH } = constants;

/**
 * The positions a generation reaches, the prompt and `maxNewTokens` together; refused when the
 * model's context is shorter.
 */
export function checkContextFits(model: Pick<Model, "config">, promptLength: number, maxNewTokens: number): number {
  const finalLength = promptLength + maxNewTokens;
  const context = model.config.n_positions;
  if (finalLength > context) {
    throw new RangeError(
      `The prompt is ${promptLength} tokens and \`maxNewTokens\` is ${maxNewTokens}, ${finalLength} in all, ` +
        `but this model's context is ${context} tokens; shorten the prompt or lower \`maxNewTokens\``,
    );
  }
  return finalLength;
}

/**
 * Refuses a batch whose key/value cache or logits would not fit: one buffer over Node's limit, or
 * the cache (held twice while a step runs) and the logits over the memory available.
 */
export function checkBatchFits(model: Pick<Model, "config" | "dtype">, rows: number, prompts: number, length: number, available = availableMemory()): void {
  const { n_layer, n_embd, vocab_size } = model.config;
  const layerCache = rows * n_embd * length * (model.dtype === "fp16" ? 2 : 4); // one key or value tensor
  const logits = rows * vocab_size * 4;
  const what = `${rows.toLocaleString("en")} samples (${prompts} prompt${prompts === 1 ? "" : "s"} × \`numSamples\`) at ${length} positions`;
  const fix = "lower `numSamples`, or generate in several calls";
  if (Math.max(layerCache, logits) > MAX_LENGTH) {
    throw new RangeError(`${what} need buffers of ${gigabytes(Math.max(layerCache, logits))}, over Node's limit of ${gigabytes(MAX_LENGTH)} for one buffer; ${fix}`);
  }
  const needed = 2 * 2 * n_layer * layerCache + logits;
  if (needed > available.bytes) {
    throw new RangeError(`${what} need about ${gigabytes(needed)} for the key/value cache and logits, but ${gigabytes(available.bytes)} is available (${available.source}); ${fix} or \`maxNewTokens\``);
  }
}
