// What a model folder holds, wherever it is: a local folder or a Hub cache snapshot, both laid
// out like a Hugging Face repo (config.json, tokenizer.json, model.safetensors, optionally an ONNX
// export). Finds those files and says exactly which one is missing and how to get it. Reading
// them is left to config.ts, tokenizer.ts and safetensors.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileExists } from "./cache";
import { ModelFilesError } from "./errors";
import { SHARD_INDEX_FILE } from "../weights/checkpoint";

/** The files every gpt2-lab model folder needs (with `onnx: true`, all but model.safetensors). */
export const MODEL_FILES = ["config.json", "tokenizer.json", "model.safetensors"] as const;

/**
 * Where ONNX exports of GPT-2 sit in a repo, in order of preference: Optimum's merged decoder (one
 * graph with and without past key/values, used by Xenova/gpt2 and openai-community/gpt2), then
 * transformers.js v3's `onnx/model.onnx` (onnx-community repos), then the same at the repo root.
 */
export const ONNX_FILES = ["onnx/decoder_model_merged.onnx", "onnx/model.onnx", "decoder_model_merged.onnx", "model.onnx"] as const;

/** The files of one model, as absolute paths. */
export interface ModelFiles {
  /** The folder holding them: the local folder, or the cache's snapshots/{commit}. */
  dir: string;
  config: string;
  tokenizer: string;
  /** tokenizer_config.json, when the folder or repo has one. */
  tokenizerConfig?: string;
  /** model.safetensors. */
  weights: string;
  /** The ONNX export, only when asked for with `onnx: true`. */
  onnx?: string;
  /** `org/name` on the Hub (absent for local folders). */
  repo?: string;
  /** The commit the files come from (absent for local folders). */
  commit?: string;
  source: "local" | "hub";
}

/** What `onnx: true` returns: the export is always there, the safetensors weights maybe not. */
export interface OnnxModelFiles extends Omit<ModelFiles, "weights" | "onnx"> {
  weights?: string;
  onnx: string;
}

/** Whether `nameOrDir` names a local folder: absolute, `./…`, `../…`, or an existing folder. */
export function isLocalPath(nameOrDir: string): boolean {
  if (path.isAbsolute(nameOrDir) || /^\.\.?([\\/]|$)/.test(nameOrDir)) return true;
  try {
    return fs.statSync(nameOrDir).isDirectory();
  } catch {
    return false;
  }
}

/** The model files in local folder `dir`; throws naming the first missing one and how to get it. */
export function localModelFiles(dir: string, onnx: boolean): ModelFiles | OnnxModelFiles {
  if (!fs.existsSync(dir)) throw new ModelFilesError("missing-file", `Model folder ${dir} does not exist.`);
  if (!fs.statSync(dir).isDirectory()) throw new ModelFilesError("missing-file", `Expected a model folder, but ${dir} is a file.`);
  const needed = onnx ? MODEL_FILES.filter((file) => file !== "model.safetensors") : MODEL_FILES;
  for (const file of needed) {
    if (fileExists(path.join(dir, file)) || (file === "tokenizer.json" && hasSlowTokenizerFiles(dir))) continue;
    if (file === "model.safetensors" && fileExists(path.join(dir, SHARD_INDEX_FILE))) continue;
    throw new ModelFilesError(
      "missing-file",
      `Model folder ${dir} has no ${file}; a gpt2-lab model folder holds ${MODEL_FILES.join(", ")}, laid out as on the Hub. ` +
        `Fetch a real model with \`npx gpt2-lab download gpt2\` (then pass \`gpt2\` instead of the folder), ` +
        `or write a random one there with \`npx gpt2-lab make-model --shape tiny --out ${dir}\`.`,
    );
  }
  const found = modelFilesIn(dir, onnx, { source: "local" });
  if (!found) {
    throw new ModelFilesError(
      "missing-file",
      `Model folder ${dir} has no ONNX export (looked for ${ONNX_FILES.join(", ")}); leave out the onnx option to build one from model.safetensors.`,
    );
  }
  return found;
}

/** Model files in `dir`, or undefined when a required one is missing. */
export function modelFilesIn(dir: string, onnx: boolean, origin: Pick<ModelFiles, "source" | "repo" | "commit">): ModelFiles | OnnxModelFiles | undefined {
  const at = (file: string) => (fileExists(path.join(dir, file)) ? path.join(dir, file) : undefined);
  const config = at("config.json");
  const tokenizer = at("tokenizer.json") ?? (hasSlowTokenizerFiles(dir) ? path.join(dir, "vocab.json") : undefined);
  const weights = at("model.safetensors") ?? at(SHARD_INDEX_FILE);
  if (!config || !tokenizer) return undefined;
  const common = { dir, config, tokenizer, ...(at("tokenizer_config.json") ? { tokenizerConfig: at("tokenizer_config.json") } : {}), ...origin };
  if (!onnx) return weights ? { ...common, weights } : undefined;
  const onnxFile = ONNX_FILES.map(at).find((file) => file !== undefined);
  return onnxFile ? { ...common, ...(weights ? { weights } : {}), onnx: onnxFile } : undefined;
}

/** vocab.json + merges.txt: the slow GPT2Tokenizer's files, which stand in for tokenizer.json. */
function hasSlowTokenizerFiles(dir: string): boolean {
  return fileExists(path.join(dir, "vocab.json")) && fileExists(path.join(dir, "merges.txt"));
}
