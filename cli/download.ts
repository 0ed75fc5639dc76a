// `gpt2-lab download <model>`: fetches a model's files from the Hugging Face Hub into the shared
// Hub cache (the same one Python's transformers uses), with a progress bar, so that later runs
// work offline. Prints where the files are.
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { type Command, UsageError } from "./command";
import { resolveModelFiles } from "../lib/hub/resolve";
import { formatBytes, terminalProgress } from "./progress";

const usage = `Usage: gpt2-lab download <model> [--revision R] [--onnx]

Downloads a model from the Hugging Face Hub into the Hub cache ($HF_HUB_CACHE, else $HF_HOME/hub,
else ~/.cache/huggingface/hub). Files already there are not fetched again; an interrupted download
resumes where it stopped.

  <model>          gpt2, distilgpt2, gpt2-medium, gpt2-large, gpt2-xl, or a Hub repo id org/name
  --revision R     branch, tag or commit id (default: main)
  --onnx           fetch the repo's ONNX export (e.g. onnx/decoder_model_merged.onnx) instead of
                   model.safetensors

Environment: HF_TOKEN (private or gated repos), HF_ENDPOINT (a mirror), HF_HUB_OFFLINE=1 (no network).`;

export const downloadCommand: Command = {
  name: "download",
  summary: "Fetch a model from the Hugging Face Hub into the local cache",
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { revision: { type: "string" }, onnx: { type: "boolean", default: false } },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new UsageError(`expected one model name, got ${positionals.length}`);
    const progress = terminalProgress();
    let files;
    try {
      files = await resolveModelFiles(positionals[0], { revision: values.revision, onnx: values.onnx, onProgress: progress });
    } finally {
      progress.stop();
    }
    const where = files.repo ? `${files.repo} @ ${files.commit}` : "local folder";
    process.stdout.write(`${where}\n${files.dir}\n`);
    for (const file of [files.config, files.tokenizer, files.tokenizerConfig, files.weights, files.onnx]) {
      if (file) process.stdout.write(`  ${file.slice(files.dir.length + 1).padEnd(32)} ${formatBytes(fs.statSync(file).size)}\n`);
    }
  },
};
