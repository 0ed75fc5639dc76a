// The decoding loop written by hand from the public pieces, as notebook 02 writes it (model.run with
// the cache, processLogits, sampleToken with createRandom(sample.seed)), draws exactly the tokens
// `generate` draws: so what the notebook teaches is what the library does.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { generate } from "../../lib/generate/generate";
import type { KvCache, Model } from "../../lib/model/model";
import { createRandom } from "../../lib/random";
import { sampleToken } from "../../lib/sampling/distribution";
import { processLogits } from "../../lib/sampling/pipeline";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("by-hand");
let model: Model;

before(async () => {
  model = await randomModel({ shape: "tiny", seed: 17, out: path.join(tmp, "tiny") });
});
after(() => model.dispose());

/** One sample, token by token: the forward pass, the last logits, temperature and top-k, the draw, append. */
async function byHand(prompt: number[], steps: number, temperature: number, topK: number, seed: number): Promise<number[]> {
  const random = createRandom(seed);
  let ids = [...prompt];
  let input = ids;
  let past: KvCache | null = null;
  const chosen: number[] = [];
  for (let step = 0; step < steps; step++) {
    const positionIds = [input.map((_, i) => ids.length - input.length + i)];
    const out = await model.run({ inputIds: [input], attentionMask: [ids.map(() => 1)], positionIds, past, logitsToKeep: 1 });
    model.disposeCache(past);
    past = out.present;
    const { probs } = processLogits(out.logits, { temperature, topK });
    const next = sampleToken(probs, random);
    chosen.push(next);
    ids = [...ids, next];
    input = [next];
  }
  model.disposeCache(past);
  return chosen;
}

test("the loop by hand, seeded with sample.seed, draws what generate drew, sample by sample", async () => {
  const prompt = model.tokenizer.encode("When using LLMs,").ids;
  const result = await generate(model, [prompt], { numSamples: 3, maxNewTokens: 12, doSample: true, topK: 40, temperature: 1.5, seed: 4 });
  assert.equal(new Set(result.samples.map((s) => s.seed)).size, 3, "each sample has a generator of its own");
  for (const sample of result.samples) assert.deepEqual(await byHand(prompt, 12, 1.5, 40, sample.seed), sample.ids);
  // A different seed draws differently, so the comparison above can fail.
  assert.notDeepEqual(await byHand(prompt, 12, 1.5, 40, result.samples[0].seed + 1), result.samples[0].ids);
});
