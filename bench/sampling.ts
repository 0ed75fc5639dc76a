// Time per call of the sampling maths on one GPT-2-sized row (50257 logits), the work done for every
// sample at every generation step. A full native sort of the row is timed as the yardstick that
// applyTopK (quickselect) and applyTopP (sorting only the nucleus) are meant to beat.
// Run: npx tsc -p . && node dist/bench/sampling.js
import { GPT2_VOCAB_SIZE } from "../lib/config";
import { sampleToken, softmax } from "../lib/sampling/distribution";
import { createRandom } from "../lib/random";
import { processLogits } from "../lib/sampling/pipeline";
import { applyTopK, applyTopP } from "../lib/sampling/warpers";

const random = createRandom(0);
// Normal logits with scale 3 are flatter than GPT-2's usual output: a hard case for top-p.
const logits = Float32Array.from({ length: GPT2_VOCAB_SIZE }, () => 3 * random.normal());
const probs = softmax(logits);

function time(name: string, run: () => unknown, calls = 200): void {
  for (let i = 0; i < 20; i++) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / calls;
  console.log(`${name.padEnd(40)} ${ms.toFixed(3)} ms`);
}

time("full sort of a copy (yardstick)", () => logits.slice().sort(), 50);
time("softmax", () => softmax(logits));
time("applyTopK(50)", () => applyTopK(logits, 50));
time("applyTopK(5000)", () => applyTopK(logits, 5000));
time("applyTopP(0.9)", () => applyTopP(logits, 0.9), 50);
time("applyTopP(0.9) after applyTopK(50)", () => applyTopP(applyTopK(logits, 50), 0.9));
time("processLogits defaults (topK 50)", () => processLogits(logits));
time("processLogits topK 0, topP 0.9", () => processLogits(logits, { topK: 0, topP: 0.9 }), 50);
time("sampleToken", () => sampleToken(probs, random));
