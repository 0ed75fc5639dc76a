// Builds a GPT-2-shaped model directory from seeded random weights, laid out like a Hugging Face
// repository (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), so every
// loading path can be tested without the Hub. Same shape and seed, same bytes.
// The init is deliberately not Hugging Face's (std 0.02): under that, a random GPT-2 repeats one
// token forever under greedy decoding, which would hide KV-cache and position bugs.
import * as fs from "node:fs";
import * as path from "node:path";
import { configForShape, type Gpt2Config, type ShapeName } from "../config";
import { createRandom, type Random } from "../random";
import { writeSafetensors } from "./safetensors";
import { writeTokenizerFiles } from "../tokenizer/files";
import { parameterSpecs, type ParameterSpec } from "./checkpoint";

export interface MakeModelOptions {
  /** One of `tiny`, `gpt2`, `gpt2-medium`, `gpt2-large`, `gpt2-xl`. */
  shape: ShapeName;
  /** Seed for the weights. @default 0 */
  seed?: number;
  /** Directory to write; created if missing. */
  out: string;
  /** Precision of model.safetensors. @default "F32" */
  dtype?: "F32" | "F16";
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
export function makeModel({ shape, seed = 0, out, dtype = "F32" }: MakeModelOptions): Gpt2Config {
  const config = configForShape(shape);
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
  fs.writeFileSync(path.join(out, "config.json"), JSON.stringify(config, null, 2) + "\n");
  writeTokenizerFiles(out);
  return config;
}

function randomParameter(spec: ParameterSpec, random: Random): Float32Array {
  const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
  // LayerNorm gains sit around 1 so activations keep their scale; everything else around 0.
  const mean = /\.ln_\d\.weight$|^ln_f\.weight$/.test(spec.name) ? 1 : 0;
  const std = spec.name === "wpe.weight" ? POSITION_STD : INIT_STD;
  for (let i = 0; i < data.length; i++) data[i] = mean + std * random.normal();
  return data;
}
