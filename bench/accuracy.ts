// How far a weight dtype moves the logits from fp32: for every position of every prompt in a fixed
// set, the largest and the mean absolute difference of the logits, and whether the most likely
// next token is the same. Both models load from the same folder; only `dtype` differs.
import type { Device } from "../lib/model/device";
import { loadModel } from "../lib/model/load";
import type { WeightDtype } from "../lib/onnx/gpt2-graph";

/** Prompts of different kinds: prose, code, numbers, dialogue, a list. */
export const ACCURACY_PROMPTS = [
  "What's the price of a loaf of bread?",
  "When using LLMs, the most important thing to remember is",
  "The quick brown fox jumps over the lazy dog.",
  "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
  "In 1969, Neil Armstrong became the first person to",
  "1, 1, 2, 3, 5, 8, 13, 21,",
  "\"Where are you going?\" she asked. \"To the",
  "Ingredients: 2 cups of flour, 1 cup of sugar, 3 eggs,",
  "The capital of France is",
  "Machine learning models are trained by minimizing a loss function that",
  "ROMEO: But soft, what light through yonder window breaks?",
  "<html><head><title>",
];

export interface LogitsComparison {
  dtype: WeightDtype;
  prompts: number;
  /** Positions compared (every token of every prompt). */
  positions: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Fraction of positions where both pick the same most likely token. */
  top1Agreement: number;
  /** The spread of the fp32 logits, for scale: mean over positions of (max - min). */
  meanLogitRange: number;
}

export async function compareLogits(dir: string, dtype: WeightDtype, device: Device = "cpu", prompts = ACCURACY_PROMPTS): Promise<LogitsComparison> {
  const reference = await loadModel(dir, { device, dtype: "fp32" });
  const other = await loadModel(dir, { device: dtype === "int8" ? "cpu" : device, dtype });
  const vocab = reference.config.vocab_size;
  let maxAbsDiff = 0;
  let sumAbsDiff = 0;
  let agree = 0;
  let positions = 0;
  let rangeSum = 0;
  for (const prompt of prompts) {
    const ids = reference.tokenizer.encode(prompt).ids;
    const a = await reference.forward([ids]);
    const b = await other.forward([ids]);
    for (let t = 0; t < ids.length; t++) {
      let bestA = 0;
      let bestB = 0;
      let min = Infinity;
      const offset = t * vocab;
      for (let v = 0; v < vocab; v++) {
        const x = a[offset + v];
        const diff = Math.abs(x - b[offset + v]);
        if (diff > maxAbsDiff) maxAbsDiff = diff;
        sumAbsDiff += diff;
        if (x > a[offset + bestA]) bestA = v;
        if (b[offset + v] > b[offset + bestB]) bestB = v;
        if (x < min) min = x;
      }
      rangeSum += a[offset + bestA] - min;
      if (bestA === bestB) agree++;
      positions++;
    }
  }
  await Promise.all([reference.dispose(), other.dispose()]);
  return {
    dtype,
    prompts: prompts.length,
    positions,
    maxAbsDiff,
    meanAbsDiff: sumAbsDiff / (positions * vocab),
    top1Agreement: agree / positions,
    meanLogitRange: rangeSum / positions,
  };
}
