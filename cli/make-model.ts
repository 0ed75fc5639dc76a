// `gpt2-lab make-model`: a GPT-2-shaped model folder with seeded random weights, for tests and
// benchmarks (a random model at a real shape costs exactly what the real model costs).
import { parseArgs } from "node:util";
import { SHAPES, type ShapeName } from "../lib/config";
import { makeModel } from "../lib/weights/make-model";
import { countParameters } from "../lib/weights/checkpoint";
import { type Command, UsageError } from "./command";
import { integerFlag, oneOfFlag } from "./flags";

export const makeModelCommand: Command = {
  name: "make-model",
  summary: "Write a GPT-2-shaped model folder with seeded random weights",
  usage: [
    "Usage: gpt2-lab make-model --shape <shape> [--seed N] [--dtype F32|F16] --out <dir> [--force]",
    "",
    "Writes config.json, model.safetensors (Hugging Face names and layout), tokenizer.json and",
    "tokenizer_config.json. The same shape and seed always give the same bytes.",
    "",
    "Options:",
    `  --shape <shape>  ${Object.keys(SHAPES).join(" | ")} (tiny: 2 layers, 4 heads, 64 dims, context 128)`,
    "  --seed N         seed for the weights (default 0)",
    "  --dtype F32|F16  precision of model.safetensors (default F32)",
    "  --out <dir>      folder to write (created if missing; refused if it holds files, or is in the",
    "                   Hugging Face cache)",
    "  --force          replace the model files of a folder that is not empty",
  ].join("\n"),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { shape: { type: "string" }, seed: { type: "string" }, dtype: { type: "string" }, out: { type: "string" }, force: { type: "boolean", default: false } },
    });
    const shape = oneOfFlag("--shape", values.shape, Object.keys(SHAPES) as ShapeName[]);
    if (!values.out) throw new UsageError("--out <dir> is required");
    const dtype = values.dtype ?? "F32";
    if (dtype !== "F32" && dtype !== "F16") throw new UsageError(`--dtype must be F32 or F16, got \`${dtype}\``);
    const config = makeModel({ shape, seed: integerFlag("--seed", values.seed, 0), out: values.out, dtype, force: values.force });
    process.stdout.write(`Wrote ${values.out}: ${shape}, ${countParameters(config).toLocaleString("en")} parameters, seed ${values.seed ?? 0}\n`);
  },
};
