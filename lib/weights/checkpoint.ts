// GPT-2's parameters by Hugging Face name and layout, and reading them from a checkpoint.
// Layout follows transformers' GPT2LMHeadModel: Conv1D weights are stored [in, out] (the transpose of
// nn.Linear), c_attn packs query, key and value side by side, and the output head reuses `wte`.
// Real checkpoints differ in small ways that `openCheckpoint` hides: a `transformer.` prefix,
// an explicit `lm_head.weight` (a copy of wte), and `h.{i}.attn.bias` causal-mask buffers (ignored).
import { type Gpt2Config, innerSize } from "../config";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { SafetensorsFile } from "./safetensors";

export interface ParameterSpec {
  /** Hugging Face name without the `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`. */
  name: string;
  shape: number[];
}

/** Every parameter of a GPT-2 model, in the order Hugging Face lists them. */
export function parameterSpecs(config: Gpt2Config): ParameterSpec[] {
  const d = config.n_embd;
  const inner = innerSize(config);
  const specs: ParameterSpec[] = [
    { name: "wte.weight", shape: [config.vocab_size, d] },
    { name: "wpe.weight", shape: [config.n_positions, d] },
  ];
  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}`;
    specs.push(
      { name: `${h}.ln_1.weight`, shape: [d] },
      { name: `${h}.ln_1.bias`, shape: [d] },
      { name: `${h}.attn.c_attn.weight`, shape: [d, 3 * d] },
      { name: `${h}.attn.c_attn.bias`, shape: [3 * d] },
      { name: `${h}.attn.c_proj.weight`, shape: [d, d] },
      { name: `${h}.attn.c_proj.bias`, shape: [d] },
      { name: `${h}.ln_2.weight`, shape: [d] },
      { name: `${h}.ln_2.bias`, shape: [d] },
      { name: `${h}.mlp.c_fc.weight`, shape: [d, inner] },
      { name: `${h}.mlp.c_fc.bias`, shape: [inner] },
      { name: `${h}.mlp.c_proj.weight`, shape: [inner, d] },
      { name: `${h}.mlp.c_proj.bias`, shape: [d] },
    );
  }
  specs.push({ name: "ln_f.weight", shape: [d] }, { name: "ln_f.bias", shape: [d] });
  return specs;
}

/** Total number of parameters (the output head is tied to wte and not counted twice). */
export function countParameters(config: Gpt2Config): number {
  return parameterSpecs(config).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** A checkpoint's GPT-2 parameters, read one at a time by Hugging Face name. */
export interface Checkpoint {
  /** Reads a parameter as float32 in Hugging Face layout; checks its shape. */
  read(spec: ParameterSpec): Float32Array;
  close(): void;
  /** The files it is made of: the one file, or the index and then every shard (sorted). */
  files: string[];
}

/** The index Hugging Face writes beside a checkpoint saved in several files. */
export const SHARD_INDEX_FILE = "model.safetensors.index.json";

/**
 * Opens a model.safetensors, or a sharded checkpoint's model.safetensors.index.json, and checks that
 * it holds every parameter `config` needs, with the right shapes, before anything is read.
 */
export function openCheckpoint(path: string, config: Gpt2Config): Checkpoint {
  // Which open file holds a tensor: the only one, or the shard the index names.
  let fileOf: (name: string) => SafetensorsFile | undefined;
  let closeAll: () => void;
  let files: string[];
  if (path.endsWith(".index.json")) {
    const shards = openShards(path);
    fileOf = (name) => shards.byName.get(name);
    closeAll = () => shards.byPath.forEach((file) => file.close());
    files = [path, ...[...shards.byPath.keys()].sort()];
  } else {
    const file = SafetensorsFile.open(path);
    fileOf = () => file;
    closeAll = () => file.close();
    files = [path];
  }
  try {
    const prefix = fileOf("transformer.wte.weight")?.tensors.has("transformer.wte.weight") ? "transformer." : "";
    const missing: string[] = [];
    for (const spec of parameterSpecs(config)) {
      const info = fileOf(prefix + spec.name)?.tensors.get(prefix + spec.name);
      if (!info) {
        missing.push(spec.name);
      } else if (info.shape.join(",") !== spec.shape.join(",")) {
        throw new RangeError(
          `${path}: tensor \`${prefix + spec.name}\` has shape [${info.shape}] but config.json implies [${spec.shape}]; the config and weights belong to different models`,
        );
      }
    }
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).join(", ") + (missing.length > 5 ? `, … (${missing.length} in all)` : "");
      throw new RangeError(`${path}: missing GPT-2 tensors ${shown}; is this a GPT-2 checkpoint (GPT2LMHeadModel)?`);
    }
    return {
      read: (spec) => fileOf(prefix + spec.name)!.read(prefix + spec.name),
      close: closeAll,
      files,
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}

/** Opens every shard named by an index's `weight_map`: tensor name → its open file, and shard path → file. */
function openShards(indexPath: string): { byName: Map<string, SafetensorsFile>; byPath: Map<string, SafetensorsFile> } {
  let weightMap: Record<string, string>;
  try {
    weightMap = JSON.parse(fs.readFileSync(indexPath, "utf8")).weight_map;
  } catch (error) {
    throw new RangeError(`${indexPath}: not a readable safetensors index (${(error as Error).message})`);
  }
  if (typeof weightMap !== "object" || weightMap === null) throw new RangeError(`${indexPath}: has no \`weight_map\``);
  const byPath = new Map<string, SafetensorsFile>();
  const byName = new Map<string, SafetensorsFile>();
  try {
    for (const [name, file] of Object.entries(weightMap)) {
      const shardPath = nodePath.join(nodePath.dirname(indexPath), nodePath.basename(file));
      if (!byPath.has(shardPath)) {
        if (!fs.existsSync(shardPath)) {
          throw new RangeError(`${indexPath} names the shard ${file}, which is missing; download or copy the whole checkpoint`);
        }
        byPath.set(shardPath, SafetensorsFile.open(shardPath));
      }
      byName.set(name, byPath.get(shardPath)!);
    }
  } catch (error) {
    byPath.forEach((file) => file.close());
    throw error;
  }
  return { byName, byPath };
}
