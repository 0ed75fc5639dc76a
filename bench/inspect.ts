// The inspection pass's cost: `model.inspect` on prompts of a few lengths against a plain forward
// pass over the same ids (`model.forward`, every position's logits, and one that computes only the
// last position's, as inspect does), in alternating rounds so drift hits all alike; with the logit lens and without it (attention weights and block writes only, what
// `traceAttention` runs). Decoding does not use the inspection graph; its speed is the other tables.
import type { Device } from "../lib/model/device";
import { loadModel } from "../lib/model/load";
import type { WeightDtype } from "../lib/onnx/gpt2-graph";
import { median } from "./machine";

export interface InspectResult {
  dtype: WeightDtype;
  tokens: number;
  /** Medians over rounds, ms. */
  forwardMs: number;
  /** The forward pass with only the last position's logits (`logitsToKeep: 1`). */
  lastOnlyMs: number;
  inspectMs: number;
  noLensMs: number;
  /** Medians of the per-round ratios to the forward pass. */
  ratio: number;
  noLensRatio: number;
}

/** Rounds of forward / inspect / inspect without the lens, for each dtype and prompt length. */
export async function measureInspection(dir: string, device: Device, dtypes: WeightDtype[], lengths: number[], rounds: number, log: (line: string) => void): Promise<InspectResult[]> {
  const results: InspectResult[] = [];
  for (const dtype of dtypes) {
    const model = await loadModel(dir, { device, dtype });
    try {
      for (const tokens of lengths) {
        log(`inspection, ${dtype}, ${tokens} tokens: 1 warm-up + ${rounds} rounds`);
        // Ids spread over the vocabulary, the same every run.
        const ids = Array.from({ length: tokens }, (_, t) => (t * 7919 + 13) % model.config.vocab_size);
        const time = async (run: () => Promise<unknown>) => {
          (globalThis as { gc?: () => void }).gc?.();
          const start = performance.now();
          await run();
          return performance.now() - start;
        };
        const lastOnly = async () => {
          const positions = ids.map((_, t) => t);
          const { present } = await model.run({ inputIds: [ids], attentionMask: [ids.map(() => 1)], positionIds: [positions], past: null, logitsToKeep: 1 });
          model.disposeCache(present);
        };
        const runs = { forward: [] as number[], lastOnly: [] as number[], inspect: [] as number[], noLens: [] as number[] };
        for (let round = -1; round < rounds; round++) {
          const forward = await time(() => model.forward([ids]));
          const last = await time(lastOnly);
          const inspect = await time(() => model.inspect(ids));
          const noLens = await time(() => model.inspect(ids, { lens: false }));
          if (round < 0) continue;
          runs.forward.push(forward);
          runs.lastOnly.push(last);
          runs.inspect.push(inspect);
          runs.noLens.push(noLens);
        }
        results.push({
          dtype,
          tokens,
          forwardMs: median(runs.forward),
          lastOnlyMs: median(runs.lastOnly),
          inspectMs: median(runs.inspect),
          noLensMs: median(runs.noLens),
          ratio: median(runs.inspect.map((t, i) => t / runs.forward[i])),
          noLensRatio: median(runs.noLens.map((t, i) => t / runs.forward[i])),
        });
      }
    } finally {
      await model.dispose();
    }
  }
  return results;
}
