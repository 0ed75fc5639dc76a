// The cost of the decoding strategies on a random model of the `gpt2` shape (random weights cost what
// real ones cost): beam search with 4 beams against sampling 4 samples (the same batch of 4 rows
// through the model, 64 new tokens), in alternating rounds so drift hits both alike; and the
// processors' and cutoffs' cost per step against plain top-k sampling, on one 50257-logit row (the
// work done per row at every step). Prints the numbers and writes bench/decoding.md.
// Usage (after `npm run build`): node dist/bench/decoding.js [--rounds 5] [--work build/bench]
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { GPT2_VOCAB_SIZE } from "../lib/config";
import { generate } from "../lib/generate/generate";
import { loadModel } from "../lib/model/load";
import { createRandom } from "../lib/random";
import { runStages, validateSamplingOptions, type SamplingOptions } from "../lib/sampling/pipeline";
import { makeModel } from "../lib/weights/make-model";
import { median } from "./machine";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "5" }, work: { type: "string", default: path.join("build", "bench") } } });
const rounds = Number(args.rounds);
const PROMPT = "What's the price of a loaf of bread?";
const NEW_TOKENS = 64;

async function main(): Promise<void> {
  const dir = path.join(args.work, "gpt2-random-seed-0");
  if (!fs.existsSync(path.join(dir, "model.safetensors"))) makeModel({ shape: "gpt2", seed: 0, out: dir, force: true });
  const model = await loadModel(dir, { device: "cpu" });
  const lines: string[] = ["# Decoding strategies", "", `Random \`gpt2\`-shaped model, CPU, ${NEW_TOKENS} new tokens, prompt ${JSON.stringify(PROMPT)}; medians of ${rounds} alternating rounds.`, ""];
  const say = (line: string) => {
    console.log(line);
    lines.push(line);
  };

  const runs = {
    "beam search, 4 beams": () => generate(model, PROMPT, { numBeams: 4, maxNewTokens: NEW_TOKENS, stopAtEos: false }),
    "sampling, numSamples 4 (top-k 50)": () => generate(model, PROMPT, { doSample: true, numSamples: 4, maxNewTokens: NEW_TOKENS }),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const ratios: number[] = [];
  for (const run of Object.values(runs)) await run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    const round: number[] = [];
    for (const [name, run] of Object.entries(runs)) {
      const start = performance.now();
      await run();
      round.push(performance.now() - start);
      times[name].push(round.at(-1)!);
    }
    ratios.push(round[0] / round[1]);
  }
  say("| run | ms per generation | ms per step |");
  say("|---|---:|---:|");
  for (const [name, list] of Object.entries(times)) say(`| ${name} | ${median(list).toFixed(0)} | ${(median(list) / NEW_TOKENS).toFixed(1)} |`);
  say("");
  say(`Beam search ÷ sampling, per round: median ${median(ratios).toFixed(3)}× (${ratios.map((x) => x.toFixed(3)).join(", ")})`);
  say("");
  await model.dispose();

  // One row's pipeline, as each sample runs it at every step.
  const random = createRandom(0);
  const logits = Float32Array.from({ length: GPT2_VOCAB_SIZE }, () => 3 * random.normal());
  const text = { ids: Array.from({ length: 100 }, (_, i) => (i * 7919) % GPT2_VOCAB_SIZE), newTokens: 50 };
  const settings: [string, SamplingOptions][] = [
    ["top-k 50 (plain sampling)", {}],
    ["+ repetitionPenalty 1.2", { repetitionPenalty: 1.2 }],
    ["+ noRepeatNgramSize 3", { noRepeatNgramSize: 3 }],
    ["+ minNewTokens 60", { minNewTokens: 60 }],
    ["+ minP 0.05", { minP: 0.05 }],
    ["+ typicalP 0.9", { typicalP: 0.9 }],
    ["+ epsilonCutoff 3e-4", { epsilonCutoff: 3e-4 }],
    ["+ etaCutoff 1e-3", { etaCutoff: 1e-3 }],
    ["all of them", { repetitionPenalty: 1.2, noRepeatNgramSize: 3, minNewTokens: 60, minP: 0.05, typicalP: 0.9, epsilonCutoff: 3e-4, etaCutoff: 1e-3 }],
    ["top-k 0 + typicalP 0.9 (whole vocabulary)", { topK: 0, typicalP: 0.9 }],
  ];
  say("| one step's pipeline on a 50257-logit row | ms | × plain |");
  say("|---|---:|---:|");
  let plain = 0;
  for (const [name, options] of settings) {
    const s = validateSamplingOptions(options);
    const calls = s.topK === 0 ? 20 : 200;
    for (let i = 0; i < 10; i++) runStages(logits, s, text);
    const start = performance.now();
    for (let i = 0; i < calls; i++) runStages(logits, s, text);
    const ms = (performance.now() - start) / calls;
    plain ||= ms;
    say(`| ${name} | ${ms.toFixed(3)} | ${(ms / plain).toFixed(2)} |`);
  }
  fs.writeFileSync(path.join("bench", "decoding.md"), lines.join("\n") + "\n");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
