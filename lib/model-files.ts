// Where a model's files are: a local Hugging Face style folder, the built-in model shipped in
// models/, or a Hub repository (lib/hub.ts downloads and caches those). Every route ends in the
// same `ModelFiles`, so loading code never cares where a model came from.
import * as fs from "node:fs";
import * as path from "node:path";

/** The files of one GPT-2 model on disk. */
export interface ModelFiles {
  /** The folder holding them (a Hub snapshot folder for Hub models). */
  dir: string;
  config: string;
  tokenizer: string;
  tokenizerConfig?: string;
  /** model.safetensors */
  weights: string;
  /** An existing ONNX export to run instead of converting `weights`. */
  onnx?: string;
  source: "local" | "builtin" | "hub";
  /** Hub repository id and resolved commit, for Hub models. */
  repo?: string;
  commit?: string;
}

/** Built-in models, shipped in the package's models/ folder, by name. */
export const BUILTIN_MODELS: Record<string, string> = {
  shakespeare: path.join(__dirname, "..", "..", "models", "shakespeare"),
};

/** True when `nameOrDir` means a folder on disk rather than a Hub id or built-in name. */
export function isLocalPath(nameOrDir: string): boolean {
  return path.isAbsolute(nameOrDir) || /^\.\.?([\\/]|$)/.test(nameOrDir) || (!(nameOrDir in BUILTIN_MODELS) && fs.existsSync(nameOrDir));
}

/** The files of a model folder; throws naming each missing file and how to get it. */
export function localModelFiles(dir: string, source: "local" | "builtin" = "local"): ModelFiles {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`Model folder ${dir} does not exist; make one with \`npx gpt2-lab make-model --shape tiny --out ${dir}\` or pass a Hub id such as \`gpt2\``);
  }
  const file = (name: string) => path.join(dir, name);
  const missing = ["config.json", "tokenizer.json", "model.safetensors"].filter((name) => !fs.existsSync(file(name)));
  if (missing.length > 0) {
    const hint =
      source === "builtin"
        ? "reinstall gpt2-lab, or rebuild the model with `models/shakespeare/train`"
        : "a GPT-2 folder needs config.json, tokenizer.json and model.safetensors, as `npx gpt2-lab download <model>` or `npx gpt2-lab make-model` write them";
    throw new Error(`Model folder ${dir} has no ${missing.join(", ")}: ${hint}`);
  }
  return {
    dir,
    config: file("config.json"),
    tokenizer: file("tokenizer.json"),
    tokenizerConfig: fs.existsSync(file("tokenizer_config.json")) ? file("tokenizer_config.json") : undefined,
    weights: file("model.safetensors"),
    source,
  };
}
