// How far a loaded model's logits are from the float64 reference (gpt2-reference.ts), on one
// left-padded batch of two prompts: what every graph's reference test measures.
import { END_OF_TEXT_ID } from "../../lib/config";
import { type Model, positionsFromMask } from "../../lib/model/model";
import { referenceLogits, type Weights } from "./gpt2-reference";

const ROWS = [
  [END_OF_TEXT_ID, END_OF_TEXT_ID, END_OF_TEXT_ID, 464, 3290, 1110],
  [2215, 1262, 27140, 10128, 11, 345],
];
const MASK = [
  [0, 0, 0, 1, 1, 1],
  [1, 1, 1, 1, 1, 1],
];

/** The largest difference from the reference over the real (unpadded) positions of the batch. */
export async function worstAgainstReference(model: Model, read: Weights): Promise<number> {
  const logits = await model.forward(ROWS, MASK);
  const cache = new Map<string, Float32Array>();
  const w = (name: string) => cache.get(name) ?? cache.set(name, read(name)).get(name)!;
  const vocab = model.config.vocab_size;
  let worst = 0;
  ROWS.forEach((ids, b) => {
    const expected = referenceLogits(model.config, w, ids, positionsFromMask(MASK[b]), MASK[b].map(Boolean));
    ids.forEach((_, t) => {
      if (!MASK[b][t]) return; // padding positions produce unused logits
      const offset = (b * ids.length + t) * vocab;
      for (let v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(logits[offset + v] - expected[t][v]));
    });
  });
  return worst;
}
