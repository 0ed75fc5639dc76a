// How far two models' logits are apart on the same prompts: for every position of every prompt,
// the largest and the mean absolute difference, and whether both pick the same most likely token.
// Used to measure what 8-bit or float16 weights cost in accuracy (npm run bench, and the tests).
import type { Model } from "./model";

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
  prompts: number;
  /** Positions compared (every token of every prompt). */
  positions: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Fraction of positions where both pick the same most likely token. */
  top1Agreement: number;
  /** The spread of the reference logits, for scale: mean over positions of (max - min). */
  meanLogitRange: number;
}

/** Compares `other`'s logits with `reference`'s at every position of `prompts`. */
export async function compareLogits(reference: Model, other: Model, prompts: readonly string[] = ACCURACY_PROMPTS): Promise<LogitsComparison> {
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
    for (let offset = 0; offset < a.length; offset += vocab) {
      let bestA = 0;
      let bestB = 0;
      let min = Infinity;
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
  return {
    prompts: prompts.length,
    positions,
    maxAbsDiff,
    meanAbsDiff: sumAbsDiff / (positions * vocab),
    top1Agreement: agree / positions,
    meanLogitRange: rangeSum / positions,
  };
}
