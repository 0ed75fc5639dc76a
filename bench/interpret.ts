// The cost of asking "why" on a random model of the `gpt2` shape (random weights cost what real
// ones cost), CPU: attribution, one ablation, occlusion, and activation patching of a 12-token
// prompt over every layer and position (and every head), with the number of model passes each
// takes and the time per pass against one plain forward pass. Writes bench/interpret.md.
// Usage (after `npm run build`): node dist/bench/interpret.js [--rounds 3] [--work build/bench]
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ablate } from "../lib/interpret/ablate";
import { attribute } from "../lib/interpret/attribute";
import { occlude } from "../lib/interpret/occlude";
import { patchActivations } from "../lib/interpret/patch";
import { loadModel } from "../lib/model/load";
import { makeModel } from "../lib/weights/make-model";
import { median } from "./machine";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "3" }, work: { type: "string", default: path.join("build", "bench") } } });
const rounds = Number(args.rounds);
const CLEAN = "The cat sat on the mat because it was tired, and";
const CORRUPTED = "The dog sat on the mat because it was tired, and";

async function main(): Promise<void> {
  const dir = path.join(args.work, "gpt2-random-seed-0");
  if (!fs.existsSync(path.join(dir, "model.safetensors"))) makeModel({ shape: "gpt2", seed: 0, out: dir, force: true });
  const model = await loadModel(dir, { device: "cpu" });
  const tokens = model.tokenizer.encode(CLEAN).ids.length;
  const lines = ["# Why this token: cost", "", `Random \`gpt2\`-shaped model, CPU, a ${tokens}-token prompt; medians of ${rounds} rounds (after one warm-up).`, ""];
  const say = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  const time = async (run: () => Promise<unknown>) => {
    await run();
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    return median(times);
  };
  const forward = await time(() => model.nextTokenLogits(CLEAN));
  const layers = model.config.n_layer;
  const heads = model.config.n_head;
  const runs: [string, number, () => Promise<unknown>][] = [
    ["plain forward pass (the decoder graph)", 1, () => model.nextTokenLogits(CLEAN)],
    ["attribute (one intervention pass; two with the default target)", 2, () => attribute(model, CLEAN)],
    ["ablate one head", 2, () => ablate(model, CLEAN, { heads: ["5.1"] })],
    [`occlude (${tokens + 1} rows in one batch)`, tokens + 1, () => occlude(model, CLEAN)],
    [`patch the residual stream: ${layers} layers × ${tokens} positions`, 2 + layers * tokens, () => patchActivations(model, CLEAN, CORRUPTED, { target: " cat", against: " dog" })],
    [`… and every head (${layers} × ${heads} more)`, 2 + layers * tokens + layers * heads, () => patchActivations(model, CLEAN, CORRUPTED, { target: " cat", against: " dog", heads: true })],
  ];
  say("| what | passes | ms | ms per pass | × one forward pass, per pass |");
  say("|---|---:|---:|---:|---:|");
  for (const [name, passes, run] of runs) {
    const ms = name.startsWith("plain") ? forward : await time(run);
    say(`| ${name} | ${passes} | ${ms.toFixed(0)} | ${(ms / passes).toFixed(1)} | ${(ms / passes / forward).toFixed(2)} |`);
  }
  say("");
  say("Patching runs in batches of 16 rows per session run; each row is the whole prompt.");
  await model.dispose();
  fs.writeFileSync(path.join("bench", "interpret.md"), lines.join("\n") + "\n");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
