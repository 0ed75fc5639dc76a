// `gpt2-lab models`: what the Hugging Face Hub cache holds, one line per repo and revision, with
// sizes, so a learner can see what is available offline and what takes up disk space.
import { parseArgs } from "node:util";
import type { Command } from "./command";
import { listCachedModels } from "../lib/hub/cache";
import * as path from "node:path";
import { hubCacheDir, labCacheDir } from "../lib/hub/env";
import { listConversions } from "../lib/onnx/convert";
import { formatBytes } from "./progress";

const usage = `Usage: gpt2-lab models

Lists the model repos in the Hugging Face Hub cache ($HF_HUB_CACHE, else $HF_HOME/hub, else
~/.cache/huggingface/hub), with each cached revision and the disk space they use. Models marked
"ready" have config.json, tokenizer.json and model.safetensors and load offline. Then the ONNX
conversions gpt2-lab made ($GPT2_LAB_CACHE, else $HF_HOME/gpt2-lab), interrupted ones marked.`;

export const modelsCommand: Command = {
  name: "models",
  summary: "List the models in the local Hugging Face cache, with sizes",
  usage,
  async run(argv) {
    parseArgs({ args: argv, options: {}, allowPositionals: false });
    const cacheDir = hubCacheDir();
    const models = await listCachedModels({ cacheDir });
    process.stdout.write(`Hugging Face cache: ${cacheDir}\n`);
    if (models.length === 0) {
      process.stdout.write("No models cached yet; fetch one with `npx gpt2-lab download gpt2`.\n");
      writeConversions();
      return;
    }
    let total = 0;
    for (const model of models) {
      total += model.sizeBytes + model.partialBytes;
      const partial = model.partialBytes > 0 ? ` (+ ${formatBytes(model.partialBytes)} partial download)` : "";
      process.stdout.write(`\n${model.repo}  ${formatBytes(model.sizeBytes)}${partial}\n`);
      for (const revision of model.revisions) {
        const ready = ["config.json", "tokenizer.json", "model.safetensors"].every((file) => revision.files.includes(file));
        const refs = revision.refs.length > 0 ? ` (${revision.refs.join(", ")})` : "";
        process.stdout.write(`  ${revision.commit.slice(0, 12)}${refs}  ${revision.files.length} files${ready ? ", ready" : ""}\n`);
      }
    }
    process.stdout.write(`\n${models.length} model${models.length === 1 ? "" : "s"}, ${formatBytes(total)} in total\n`);
    writeConversions();
  },
};

/** The ONNX conversions gpt2-lab made, with interrupted ones flagged: they take space until removed. */
function writeConversions(): void {
  const conversions = listConversions();
  if (conversions.length === 0) return;
  process.stdout.write(`\nConverted models: ${labCacheDir()}\n`);
  for (const { path: dir, sizeBytes, state } of conversions) {
    const note =
      state === "interrupted"
        ? "  (interrupted conversion; the next conversion removes it)"
        : state === "damaged"
          ? "  (damaged; converted again when next loaded)"
          : state === "in progress"
            ? "  (being written by another process)"
            : "";
    process.stdout.write(`  ${path.basename(dir)}  ${formatBytes(sizeBytes)}${note}\n`);
  }
}
