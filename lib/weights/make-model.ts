// Builds a GPT-2-shaped model directory from seeded random weights, laid out like a Hugging Face
// repository (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), so every
// loading path can be tested without the Hub. Same shape and seed, same bytes.
// The init is deliberately not Hugging Face's (std 0.02): under that, a random GPT-2 repeats one
// token forever under greedy decoding, which would hide KV-cache and position bugs.
import * as fs from "node:fs";
import * as path from "node:path";
import { expectInteger, expectString, invalid } from "../checks";
import { configForShape, type Gpt2Config, type ShapeName } from "../config";
import { writeFileAtomically } from "../file-io";
import { hubCacheDir } from "../hub/env";
import { createRandom, type Random } from "../random";
import { writeSafetensors } from "./safetensors";
import { writeTokenizerFiles } from "../tokenizer/files";
import { parameterSpecs, type ParameterSpec } from "./checkpoint";

export interface MakeModelOptions {
  /** One of `tiny`, `gpt2`, `gpt2-medium`, `gpt2-large`, `gpt2-xl`. */
  shape: ShapeName;
  /** Seed for the weights. @default 0 */
  seed?: number;
  /**
   * Folder to write; created if missing. A folder that already holds files is refused unless
   * `force`; a folder inside the Hugging Face cache is always refused.
   */
  out: string;
  /** Replace the model files of a folder that is not empty (other files in it are left alone). @default false */
  force?: boolean;
  /** Precision of model.safetensors. @default "F32" */
  dtype?: "F32" | "F16";
  /** Other sizes than the shape's: layers, heads, width (a multiple of the heads) and context. */
  sizes?: Partial<Pick<Gpt2Config, "n_layer" | "n_head" | "n_embd" | "n_positions">>;
}

/** Standard deviation of the random weights and biases (see the file comment for why not 0.02). */
const INIT_STD = 0.1;
/**
 * Position embeddings get a larger spread, so each position pulls the output its own way: greedy
 * text then keeps changing (measured on tiny models, seeds 0-5: 17-20 distinct tokens in 20,
 * against 1-13 with 0.1), and a wrong position or cache entry changes the tokens.
 */
const POSITION_STD = 0.5;

/** Writes a random GPT-2 model directory and returns its config. */
export function makeModel({ shape, seed = 0, out, dtype = "F32", force = false, sizes = {} }: MakeModelOptions): Gpt2Config {
  const config = { ...configForShape(shape), ...sizes };
  for (const key of ["n_layer", "n_head", "n_embd", "n_positions"] as const) expectInteger(config[key], `sizes.${key}`, 1);
  if (config.n_embd % config.n_head !== 0) throw invalid(RangeError, "sizes.n_embd", `a multiple of n_head (${config.n_head})`, config.n_embd);
  checkOutFolder(out, force);
  fs.mkdirSync(out, { recursive: true });
  const random = createRandom(seed);
  // Tensors are generated as the writer reaches them, in a fixed order, so memory stays at one
  // tensor and the bytes depend only on the seed.
  const tensors = parameterSpecs(config).map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    data: () => randomParameter(spec, random),
  }));
  writeSafetensors(path.join(out, "model.safetensors"), tensors, { dtype, metadata: { seed: String(seed), shape } });
  // Each file is written beside its final name and renamed over it, so a symbolic link in the
  // folder is replaced, never written through.
  writeFileAtomically(path.join(out, "config.json"), JSON.stringify(config, null, 2) + "\n");
  writeTokenizerFiles(out);
  return config;
}

/** Refuses an `out` that is a file, a folder with files (unless `force`), or anything inside the Hub cache. */
function checkOutFolder(out: string, force: boolean): void {
  expectString(out, "out", true);
  const stat = fs.statSync(out, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new Error(`${out} is a file, not a folder; give \`out\` (--out) a folder to write the model into`);
  // The cache's snapshots link into its blobs: writing there would change files other models share.
  const cache = realPathOfNearest(hubCacheDir());
  const target = realPathOfNearest(path.resolve(out));
  if (target === cache || target.startsWith(cache + path.sep)) {
    throw new Error(`${out} is inside the Hugging Face cache (${hubCacheDir()}), whose files belong to downloaded models; write the model to another folder`);
  }
  const present = stat ? fs.readdirSync(out) : [];
  if (present.length > 0 && !force) {
    const shown = present.slice(0, 4).join(", ") + (present.length > 4 ? ", …" : "");
    throw new Error(`${out} is not empty (it holds ${shown}); choose an empty folder, or pass --force (\`force: true\`) to replace its model files`);
  }
}

/** The real path of `file`, or of its nearest existing parent with the rest appended. */
function realPathOfNearest(file: string): string {
  const rest: string[] = [];
  let at = path.resolve(file);
  for (;;) {
    try {
      return path.join(fs.realpathSync(at), ...rest);
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.join(at, ...rest);
      rest.unshift(path.basename(at));
      at = parent;
    }
  }
}

function randomParameter(spec: ParameterSpec, random: Random): Float32Array {
  const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
  // LayerNorm gains sit around 1 so activations keep their scale; everything else around 0.
  const mean = /\.ln_\d\.weight$|^ln_f\.weight$/.test(spec.name) ? 1 : 0;
  const std = spec.name === "wpe.weight" ? POSITION_STD : INIT_STD;
  for (let i = 0; i < data.length; i++) data[i] = mean + std * random.normal();
  return data;
}
