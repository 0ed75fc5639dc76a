// How large a generation may be: the key/value cache and the logits of a batch grow with the number
// of samples and positions, and a batch too large for one buffer, or for the memory left, is
// refused with the numbers and the fix before anything is allocated.
import { constants } from "node:buffer";
import { availableMemory, gigabytes } from "../model/memory";
import type { Model } from "../model/model";

/** The largest buffer Node can make, in bytes. */
const { MAX_LENGTH } = constants;

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
